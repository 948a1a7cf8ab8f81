# corpus: main writes each job's entry before put(); daemon workers, never joined, update it after get() and call task_done(); main reads every entry after q.join()
# expect: none

# q.join() returns after the last task_done(), and every task_done() takes the
# queue's lock, so each worker's writes happen before main's reads even though
# the workers are still alive (blocked in get()) when main reads.

import queue
import threading

RESULTS = {}
WORK = queue.Queue()


def worker():
    while True:
        key = WORK.get()
        RESULTS[key] = RESULTS[key] + ":done"
        WORK.task_done()


def main():
    for _ in range(3):
        threading.Thread(target=worker, daemon=True).start()
    for i in range(6):
        key = "job%d" % i
        RESULTS[key] = "queued"
        WORK.put(key)
    WORK.join()
    done = [RESULTS["job%d" % i] for i in range(6)]
    RESULTS["job0"] = "archived"
    print(done)


if __name__ == "__main__":
    main()
