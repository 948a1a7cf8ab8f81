# corpus: two threads take the same two locks in opposite orders; staggered so this run does not
# deadlock, but another schedule would
# expect: none
# expect-deadlock: __main__.LOCK_A __main__.LOCK_B

import threading
import time

LOCK_A = threading.Lock()
LOCK_B = threading.Lock()


def a_then_b():
    with LOCK_A:
        with LOCK_B:
            pass


def b_then_a():
    time.sleep(0.2)
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
