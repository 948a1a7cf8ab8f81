# corpus: 200 threads writing module-global dicts, most under locks, two keys racy (issue #9.2)
# expect: __main__.HITS['count']
# expect: __main__.LAST['writer']

# Under a lock (never reported): TOTALS (one lock), GROUPS (one lock per key, 8 keys), and
# PER_THREAD (every thread its own key, no lock needed). Racy: HITS['count'] (an unlocked
# read-modify-write) and LAST['writer'] (an unlocked store), both right after the barrier,
# before any lock, so no release of one thread can order them with another's.
# The output depends only on the locked state and is the same in every run, traced or not
# (tests/integration/test_faults.py compares it).

import threading

N = 200
TOTALS = {"sum": 0, "count": 0}
TOTALS_LOCK = threading.Lock()
GROUPS = {}
GROUP_LOCKS = [threading.Lock() for _ in range(8)]
PER_THREAD = {}
HITS = {"count": 0}
LAST = {}
GATE = threading.Barrier(N, timeout=60)


def worker(n):
    PER_THREAD["t-%d" % n] = n * n
    GATE.wait()
    HITS["count"] += 1
    LAST["writer"] = n
    with TOTALS_LOCK:
        TOTALS["sum"] += n
        TOTALS["count"] += 1
    g = n % 8
    with GROUP_LOCKS[g]:
        GROUPS["g-%d" % g] = GROUPS.get("g-%d" % g, 0) + n


def main():
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("totals:", TOTALS["sum"], TOTALS["count"])
    print("groups:", sorted(GROUPS.items()))
    print("per-thread:", len(PER_THREAD), sum(PER_THREAD.values()))
    print("racy keys present:", "count" in HITS, "writer" in LAST)


if __name__ == "__main__":
    main()
