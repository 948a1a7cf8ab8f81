# corpus: named locks from a weak-value registry, as oslo.concurrency's lockutils makes them: a
# lock that nobody holds any more dies, and the next user of the name gets a new one; the writes
# of each name stay ordered through the registry
# expect: none

import threading
import time
import weakref

CACHE = {}


class NamedLocks:
    def __init__(self):
        self._locks = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def get(self, name):
        with self._guard:
            try:
                return self._locks[name]
            except KeyError:
                lock = threading.Semaphore()
                self._locks[name] = lock
                return lock


LOCKS = NamedLocks()


def fill(name, value):
    with LOCKS.get(name):
        if name not in CACHE:
            CACHE[name] = value
        CACHE[name] = CACHE[name] + 1


def staggered(i):
    # one after another in time, but ordered by nothing but the registry: each finds the
    # previous lock dead and makes a new one
    time.sleep(0.03 * i)
    fill("cell-1", i)


def contended(i):
    for _ in range(50):
        fill("cell-2", i)


def main():
    threads = [threading.Thread(target=staggered, args=(i,)) for i in range(4)]
    threads += [threading.Thread(target=contended, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("cell-1:", CACHE["cell-1"], "cell-2:", CACHE["cell-2"], "live locks:", len(LOCKS._locks))


if __name__ == "__main__":
    main()
