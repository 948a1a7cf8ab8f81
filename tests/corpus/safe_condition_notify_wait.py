# corpus: Condition with a predicate loop: the producer publishes under the condition and notifies, consumers wait
# expect: none

import threading
import time

MAILBOX = {}
READY = False
COND = threading.Condition()


def producer():
    global READY
    time.sleep(0.02)  # let the consumers block in wait()
    with COND:
        MAILBOX["message"] = "hello"
        READY = True
        COND.notify_all()


def consumer(index):
    with COND:
        while not READY:
            COND.wait()
        text = MAILBOX["message"]
        MAILBOX["ack%d" % index] = text.upper()


def main():
    threads = [threading.Thread(target=consumer, args=(i,)) for i in range(2)]
    threads.append(threading.Thread(target=producer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("mailbox:", sorted(MAILBOX))


if __name__ == "__main__":
    main()
