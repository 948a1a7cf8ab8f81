# corpus: opposite lock orders, but the second thread waits on an Event that the first sets only
# after it let go of both locks: the Event orders them in every schedule
# expect: none

import threading

LOCK_A = threading.Lock()
LOCK_B = threading.Lock()
DONE = threading.Event()


def a_then_b():
    with LOCK_A:
        with LOCK_B:
            pass
    DONE.set()


def b_then_a():
    DONE.wait(10)
    with LOCK_B:
        with LOCK_A:
            pass


def main():
    threads = [threading.Thread(target=b_then_a), threading.Thread(target=a_then_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done")


if __name__ == "__main__":
    main()
