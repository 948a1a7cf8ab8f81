# corpus: queue.PriorityQueue: the producer changes a ticket after queueing it; the consumer writes it after get()
# expect: __main__.TICKETS['outage']

import queue
import threading

TICKETS = {}
TRIAGE = queue.PriorityQueue()


def producer():
    TICKETS["outage"] = "open"
    TRIAGE.put((1, "outage"))
    TICKETS["outage"] = "open, escalated"  # bug: the consumer may already own it


def consumer():
    _, key = TRIAGE.get()
    TICKETS[key] = "fixed"


def main():
    threads = [threading.Thread(target=consumer), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("outage:", TICKETS["outage"])


if __name__ == "__main__":
    main()
