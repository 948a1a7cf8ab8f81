# corpus: queue.PriorityQueue hand-off: the producer writes each ticket before put((priority, key)), the consumer updates it after get() (most urgent first)
# expect: none

import queue
import threading

TICKETS = {}
TRIAGE = queue.PriorityQueue()


def producer():
    for priority, key in ((3, "typo"), (1, "outage"), (2, "slow page")):
        TICKETS[key] = "open"
        TRIAGE.put((priority, key))
    TRIAGE.put((99, None))  # sorts after every ticket


def consumer(out):
    while True:
        _, key = TRIAGE.get()
        if key is None:
            break
        TICKETS[key] = TICKETS[key] + ":fixed"
        out.append(key)


def main():
    order = []
    threads = [threading.Thread(target=consumer, args=(order,)), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("fixed", order, sorted(TICKETS.items()))


if __name__ == "__main__":
    main()
