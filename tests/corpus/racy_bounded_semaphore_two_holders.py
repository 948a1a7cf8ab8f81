# corpus: a BoundedSemaphore(2) used as if it were a mutex: two threads hold it at once and both write the same key
# expect: __main__.BALANCE['total']

# The barrier inside the "critical section" makes both threads hold the
# semaphore at the same time in every schedule (with a count of 2 neither
# blocks), so each one's read-modify-write follows the barrier and nothing
# orders the two.  Acquiring a semaphore orders only with the release that let
# it through, and here no release comes first.

import threading

BALANCE = {"total": 0}
SLOTS = threading.BoundedSemaphore(2)  # bug: meant to be 1
INSIDE = threading.Barrier(2, timeout=10)


def deposit(amount):
    with SLOTS:
        INSIDE.wait()
        BALANCE["total"] = BALANCE["total"] + amount


def main():
    threads = [threading.Thread(target=deposit, args=(a,)) for a in (10, 20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("total:", BALANCE["total"])


if __name__ == "__main__":
    main()
