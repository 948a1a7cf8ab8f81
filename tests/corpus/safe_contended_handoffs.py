# corpus: thousands of contended Lock/RLock sections and Queue/SimpleQueue hand-offs at once, each access ordered by one
# expect: none

# Under a free-threaded interpreter these threads run truly in parallel: every acquire must be
# recorded after the release it follows and every get after its put, or pyrace would see an
# access before the hand-off that orders it and report a race that is not there.

import queue
import threading

COUNTS = {"lock": 0, "rlock": 0}
ITEMS = {}
LOCK = threading.Lock()
RLOCK = threading.RLock()
ROUNDS = 1500


def count():
    for _ in range(ROUNDS):
        with LOCK:
            COUNTS["lock"] += 1
        RLOCK.acquire()
        COUNTS["rlock"] += 1
        RLOCK.release()


def produce(q, base):
    for i in range(ROUNDS):
        ITEMS[base + i] = i  # written before the put: the consumer's get orders its access
        q.put(base + i)
    q.put(None)


def consume(q):
    while (key := q.get()) is not None:
        ITEMS[key] = ITEMS[key] + 1


def main():
    handoff, simple = queue.Queue(), queue.SimpleQueue()
    threads = [threading.Thread(target=count) for _ in range(3)]
    threads += [threading.Thread(target=produce, args=(handoff, 0)),
                threading.Thread(target=consume, args=(handoff,)),
                threading.Thread(target=produce, args=(simple, 100000)),
                threading.Thread(target=consume, args=(simple,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert COUNTS == {"lock": 3 * ROUNDS, "rlock": 3 * ROUNDS}
    assert len(ITEMS) == 2 * ROUNDS


if __name__ == "__main__":
    main()
