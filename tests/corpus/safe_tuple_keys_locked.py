# corpus: a memo cache keyed by (name, size) tuples built afresh by each caller, every access
# under one lock; distinct tuples of other threads never conflict with it either
# expect: none

import threading

MEMO = {}
MEMO_LOCK = threading.Lock()


def area(name, size):
    k = (name, size)
    with MEMO_LOCK:
        if k in MEMO:
            return MEMO[k]
        MEMO[k] = size * size
        return MEMO[k]


def worker(i):
    for j in range(30):
        area("shared", j % 5)
        MEMO[("own", i, j)] = j  # a key only this thread ever uses


def main():
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("entries:", len(MEMO))


if __name__ == "__main__":
    main()
