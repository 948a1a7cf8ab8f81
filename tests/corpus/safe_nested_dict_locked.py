# corpus: a two-level cache filled and read under one lock; the inner dicts are watched (their
# keys are variables such as CACHE['t1']['n']) and every access is ordered by the lock
# expect: none

import threading

CACHE = {}
LOCK = threading.Lock()


def bump(tenant):
    with LOCK:
        inner = CACHE.setdefault(tenant, {})
        inner["n"] = inner.get("n", 0) + 1


def worker(i):
    for _ in range(20):
        bump("t%d" % (i % 2))


def main():
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(CACHE)


if __name__ == "__main__":
    main()
