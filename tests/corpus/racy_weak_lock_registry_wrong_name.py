# corpus: named locks from a weak-value registry, but each thread locks a name of its own while
# writing a shared key: the registry orders each name, not the key
# expect: __main__.CACHE['shared']

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


def worker(i):
    time.sleep(0.03 * i)
    with LOCKS.get("worker-%d" % i):
        CACHE["shared"] = i


def main():
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("shared:", CACHE["shared"])


if __name__ == "__main__":
    main()
