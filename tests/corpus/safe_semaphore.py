# corpus: a BoundedSemaphore(1) used as a mutex, and a Semaphore(0) used as a signal from producer to consumer
# expect: none

import threading

COUNTERS = {"n": 0}
INBOX = {}
MUTEX = threading.BoundedSemaphore(1)
SIGNAL = threading.Semaphore(0)


def incrementer():
    for _ in range(30):
        with MUTEX:
            COUNTERS["n"] = COUNTERS["n"] + 1


def producer():
    INBOX["letter"] = "dear consumer"
    SIGNAL.release()


def consumer(out):
    SIGNAL.acquire()
    out.append(INBOX["letter"])
    INBOX["letter"] = "read"


def main():
    seen = []
    threads = [threading.Thread(target=incrementer) for _ in range(3)]
    threads.append(threading.Thread(target=consumer, args=(seen,)))
    threads.append(threading.Thread(target=producer))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("n =", COUNTERS["n"], "letter:", INBOX["letter"])


if __name__ == "__main__":
    main()
