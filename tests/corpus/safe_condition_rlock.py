# corpus: a Condition built on an RLock: the producer publishes while holding it re-entrantly and notifies; the consumer waits with a predicate loop
# expect: none

# wait() on an RLock-based Condition releases the lock however deep it is held
# (_release_save) and takes it back at that depth (_acquire_restore): the
# producer's writes happen before the consumer's reads in every schedule.

import threading
import time

MAILBOX = {}
LOCK = threading.RLock()
COND = threading.Condition(LOCK)


def publish(text):
    with LOCK:  # re-entered: the caller already holds COND's RLock
        MAILBOX["message"] = text
        MAILBOX["ready"] = True


def producer():
    time.sleep(0.02)  # let the consumer block in wait()
    with COND:
        publish("hello")
        COND.notify()


def consumer(out):
    with COND:
        with LOCK:  # held twice while waiting: wait() releases both levels
            while not MAILBOX.get("ready"):
                COND.wait()
            out.append(MAILBOX["message"])
            MAILBOX["message"] = "read"


def main():
    seen = []
    threads = [threading.Thread(target=consumer, args=(seen,)), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("consumer saw", seen[0], "mailbox:", MAILBOX["message"])


if __name__ == "__main__":
    main()
