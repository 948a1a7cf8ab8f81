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


class Progress:
    """Who got how far, told through attributes pyrace does not watch: nothing that orders."""

    first_read = False
    stored = False


PROGRESS = Progress()


def pin(cpu):
    os.sched_setaffinity(0, {CPUS[cpu % len(CPUS)]})


def reader(cache=CACHE, lock=LOCK, progress=PROGRESS, sleep=time.sleep):
    # globals bound as defaults: reading one is a dict access too, in the module's dict
    pin(0)
    with lock:
        cache["k"]
    progress.first_read = True
    # not an Event: waiting for it would order the store before the read
    while not progress.stored:
        sleep(0.005)
    return cache["k"]


def writer():
    pin(1)
    while not PROGRESS.first_read:
        time.sleep(0.005)
    with LOCK:
        CACHE["k"] = 1
    PROGRESS.stored = True


pin(1)  # the main thread too: only the reader runs on the first CPU
threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
for t in threads:
    t.start()
for t in threads:
    t.join()
