# corpus: a Condition built on an RLock; the producer notifies, leaves the condition and only then writes the body the consumer reads
# expect: __main__.MAILBOX['body']

# The consumer re-acquires the RLock after the producer released it, so what the
# producer wrote inside the condition (the flag) is ordered before the
# consumer's reads; the body written after the release is ordered with nothing
# the consumer does, whichever thread runs first.

import threading
import time

MAILBOX = {}
COND = threading.Condition(threading.RLock())


def producer():
    time.sleep(0.02)  # let the consumer block in wait()
    with COND:
        MAILBOX["ready"] = True
        COND.notify()
    MAILBOX["body"] = "hello"  # bug: published outside the condition


def consumer(out):
    with COND:
        while not MAILBOX.get("ready"):
            COND.wait()
        out.append(MAILBOX.get("body"))


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
