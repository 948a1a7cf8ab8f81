# corpus: opposite lock orders, but always under one gate lock, so only one thread at a time can
# be between its two acquisitions: no deadlock is possible
# expect: none

import threading

GATE = threading.Lock()
LOCK_A = threading.Lock()
LOCK_B = threading.Lock()
START = threading.Barrier(2, timeout=10)


def a_then_b():
    START.wait()
    with GATE:
        with LOCK_A:
            with LOCK_B:
                pass


def b_then_a():
    START.wait()
    with GATE:
        with LOCK_B:
            with LOCK_A:
                pass


def main():
    threads = [threading.Thread(target=a_then_b), threading.Thread(target=b_then_a)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done")


if __name__ == "__main__":
    main()
