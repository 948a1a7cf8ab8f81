#!/usr/bin/python3.11
"""The standard library's regular-expression cache (re._cache) under concurrent compiles.

In CPython 3.11, re._compile() looks the key (type(pattern), pattern, flags) up in the
module-global dict `_cache`; on a miss it compiles, and when the cache holds _MAXCACHE (512)
entries it evicts the oldest with `del _cache[next(iter(_cache))]` inside
`try: ... except (StopIteration, RuntimeError, KeyError): pass` (the exceptions another thread's
eviction can cause), then stores the new entry. No lock.

THREADS threads, released together by a Barrier, each compile PATTERNS distinct patterns of
their own (more than _MAXCACHE in all, so that evictions happen from every thread) plus a few
patterns shared by every thread (so that the same key is missed, compiled and stored by several
threads). Every match result is checked: the cache may be raced, but the answers must stay right.

Exits 0 when every match was right, 1 otherwise.

    /usr/bin/python3.11 tests/realworld/stdlib_re.py [--threads N] [--patterns N]
"""

import argparse
import re
import sys
import threading

SHARED = [r"^shared-(\d+)$", r"(?i)^SHARED-(\d+)$", r"^shared-(\d+)-(\w+)$"]


def worker(index, start, count, errors):
    try:
        start.wait()
        for i in range(count):
            text = "t%d-p%d-%d" % (index, i, i * 7)
            m = re.match(r"^t%d-p%d-(\d+)$" % (index, i), text)
            if m is None or m.group(1) != str(i * 7):
                raise AssertionError("pattern %d of thread %d did not match %r" % (i, index, text))
            shared = SHARED[i % len(SHARED)]
            if not re.match(shared, "shared-%d-x" % i if i % 3 == 2 else "shared-%d" % i):
                raise AssertionError("shared pattern %r did not match" % shared)
    except BaseException as exc:
        errors.append("thread %d: %s: %s" % (index, type(exc).__name__, exc))
        start.abort()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--patterns", type=int, default=300,
                        help="distinct patterns per thread (default 300)")
    args = parser.parse_args()
    re.purge()
    start = threading.Barrier(args.threads)
    errors = []
    threads = [threading.Thread(target=worker, args=(i, start, args.patterns, errors))
               for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for e in errors:
            print("stdlib_re: %s" % e, file=sys.stderr)
        return 1
    print("stdlib_re: %d threads x %d patterns; re._cache holds %d entries (max %d)"
          % (args.threads, args.patterns, len(re._cache), re._MAXCACHE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
