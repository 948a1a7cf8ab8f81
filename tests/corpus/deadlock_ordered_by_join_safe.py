# corpus: opposite lock orders in two threads, but the second starts only after the first was
# joined, so the two can never overlap: no deadlock is possible
# expect: none

import threading

LOCK_A = threading.Lock()
LOCK_B = threading.Lock()


def a_then_b():
    with LOCK_A:
        with LOCK_B:
            pass


def b_then_a():
    with LOCK_B:
        with LOCK_A:
            pass


def main():
    first = threading.Thread(target=a_then_b)
    first.start()
    first.join()
    second = threading.Thread(target=b_then_a)
    second.start()
    second.join()
    print("done")


if __name__ == "__main__":
    main()
