# corpus: the producer sets an Event and only then writes the final value; the waiter's read races with that write
# expect: __main__.REPORT['body']

# Event.set() -> wait() orders the first write before the read, but the second
# write comes after set(), so nothing orders it with the read in any schedule.
# The barrier only ensures both threads are past their start-up bookkeeping
# (which takes threading's internal locks) before the producer starts.

import threading

REPORT = {}
READY = threading.Event()
GATE = threading.Barrier(2, timeout=10)


def producer():
    GATE.wait()
    REPORT["body"] = "draft"
    READY.set()
    REPORT["body"] = "final"  # bug: written after signalling


def consumer(out):
    GATE.wait()
    READY.wait()
    out.append(REPORT["body"])


def main():
    seen = []
    threads = [threading.Thread(target=consumer, args=(seen,)), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("consumer saw", seen[0])


if __name__ == "__main__":
    main()
