# corpus: three threads take three locks in a rotating order (A then B, B then C, C then A); no
# pair of them inverts an order, but the three together can deadlock
# expect: none
# expect-deadlock: __main__.LOCK_A __main__.LOCK_B __main__.LOCK_C

import threading
import time

LOCK_A = threading.Lock()
LOCK_B = threading.Lock()
LOCK_C = threading.Lock()


def take(first, second, delay):
    time.sleep(delay)
    with first:
        with second:
            pass


def main():
    threads = [
        threading.Thread(target=take, args=(LOCK_A, LOCK_B, 0.0)),
        threading.Thread(target=take, args=(LOCK_B, LOCK_C, 0.15)),
        threading.Thread(target=take, args=(LOCK_C, LOCK_A, 0.3)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done")


if __name__ == "__main__":
    main()
