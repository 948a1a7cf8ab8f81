# corpus: a thread reads a key under a lock, lets the lock go, and reads the key again without
# it, with no other dict access between: the second read is a new access (it races with the
# store another thread makes under the lock in between), not a repeat of the first. The reader is
# pinned to a CPU of its own, so that nothing else is recorded on that CPU between its two
# reads.
# expect: __main__.CACHE['k']

import os
import threading
import time

CACHE = {"k": 0}
LOCK = threading.Lock()
CPUS = sorted(os.sched_getaffinity(0))  # before any pinning: threads inherit it


def pin(cpu):
    os.sched_setaffinity(0, {CPUS[cpu % len(CPUS)]})


def reader(cache=CACHE, lock=LOCK, sleep=time.sleep):
    # globals bound as defaults: reading one is a dict access too, in the module's dict
    pin(0)
    with lock:
        cache["k"]
    # not an Event: waiting for it would order the store before the read. Should the writer
    # come late, after the second read, the two still race.
    sleep(0.2)
    return cache["k"]


def writer():
    pin(1)
    time.sleep(0.05)
    with LOCK:
        CACHE["k"] = 1


pin(1)  # the main thread too: only the reader runs on the first CPU
threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
