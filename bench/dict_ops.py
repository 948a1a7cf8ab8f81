"""Microbenchmark: ns per operation for dict stores, lookups, list and set operations and lock
round trips.

Prints one line per case: `case ns_per_op`. Run it untraced and under pyrace; bench/run.py
computes the ratios."""
import sys
import threading
import time

WATCHED = {}
FLAG = True
ITEMS = [1, 2]
SEEN = set()
LOCK = threading.Lock()
N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000


def store_watched(n):
    d = WATCHED
    for i in range(n):
        d["k"] = i


def store_unwatched(n):
    d = {}
    for i in range(n):
        d["k"] = i


def lookup_watched(n):
    d = WATCHED
    d["k"] = 0
    for _ in range(n):
        d["k"]


def lookup_unwatched(n):
    d = {"k": 0}
    for _ in range(n):
        d["k"]


def list_append_unwatched(n):
    # specialised: the eval loop appends inline and calls out only to grow the list
    items = []
    for i in range(n):
        items.append(i)


def list_iter_unwatched(n):
    items = [1, 2]
    for _ in range(n):
        for _ in items:
            pass


def list_iter_watched(n):
    items = ITEMS
    for _ in range(n):
        for _ in items:
            pass


def set_add_unwatched(n):
    seen = set()
    for _ in range(n):
        seen.add("k")


def set_add_watched(n):
    seen = SEEN
    for _ in range(n):
        seen.add("k")


def with_lock(n):
    lock = LOCK
    for _ in range(n):
        with lock:
            pass


def global_read(n):
    # LOAD_GLOBAL_MODULE once warm: invisible to pyrace unless --global-reads
    for _ in range(n):
        FLAG


def local_arith(n):
    # no dict, no global: what --global-reads costs code pyrace has no interest in
    x = 0
    for i in range(n):
        x = (x + i) & 0xFFFF


def empty_loop(n):
    for _ in range(n):
        pass


def main():
    cases = [store_watched, store_unwatched, lookup_watched, lookup_unwatched,
             list_append_unwatched, list_iter_unwatched, list_iter_watched, set_add_unwatched,
             set_add_watched, with_lock, global_read, local_arith]
    base = min(_timed(empty_loop) for _ in range(3))
    for case in cases:
        best = min(_timed(case) for _ in range(3))
        print("%s %.1f" % (case.__name__, max(best - base, 0.0) * 1e9 / N))


def _timed(fn):
    start = time.perf_counter()
    fn(N)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
