# corpus: check-then-add, discard and iteration of a global set, each under one lock; distinct
# elements added without the lock by different threads do not conflict either
# expect: none

import threading

SEEN = set()
LOCK = threading.Lock()
SHARDS = set()


def claim(worker):
    SHARDS.add("shard-%d" % worker)
    for job in range(50):
        with LOCK:
            if job not in SEEN:
                SEEN.add(job)
        with LOCK:
            SEEN.discard(job - 10)
            total = sum(1 for _ in SEEN)
    return total


def main():
    threads = [threading.Thread(target=claim, args=(w,)) for w in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("seen", len(SEEN), sorted(SHARDS))


if __name__ == "__main__":
    main()
