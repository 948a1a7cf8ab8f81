# corpus: the notify comes before the consumer ever waits; the consumer's predicate loop sees the flag and never calls wait()
# expect: none

# A lost wake-up is harmless with a predicate loop: the flag is written under
# the condition's lock, so the consumer's later acquire of that lock orders the
# producer's writes before its reads (and the reads share the watched dict, so
# --predict agrees).

import threading
import time

STATE = {}
COND = threading.Condition()


def producer():
    with COND:
        STATE["result"] = 42
        STATE["done"] = True
        COND.notify_all()  # nobody is waiting yet


def consumer(out):
    time.sleep(0.05)  # arrive after the notify
    with COND:
        while not STATE.get("done"):
            COND.wait()
        out.append(STATE["result"])
        STATE["result"] = 0


def main():
    seen = []
    threads = [threading.Thread(target=producer), threading.Thread(target=consumer, args=(seen,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("consumer saw", seen[0])


if __name__ == "__main__":
    main()
