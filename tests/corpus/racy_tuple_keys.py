# corpus: a cache keyed by tuples that each thread builds afresh: equal keys are the same entry
# (identified by the hash the dict uses, not by the tuple object), so the unlocked
# store-pop-store by two threads races; hash((7, 8)) is 0xba4013c24bb69ffe on 64-bit CPython
# expect: __main__.CACHE[<tuple>#ba4013c24bb69ffe]

import threading
import time

CACHE = {}


def key(i):
    return tuple([7, 8 + 0 * i])  # a new tuple object on every call


def worker(i):
    for j in range(20):
        k = key(i)
        CACHE[k] = j
        if k in CACHE:
            CACHE.get(k)
        CACHE.pop(k, None)
        time.sleep(0.001)


def main():
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("entries left:", len(CACHE))


if __name__ == "__main__":
    main()
