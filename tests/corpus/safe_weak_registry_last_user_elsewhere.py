# corpus: a named lock from a weak-value registry dies in another thread than the one that last
# used it: B holds the lock object without using it, A uses it and lets go, B lets go last (the
# lock dies in B, its entry goes), then B makes a new lock for the name and writes. B's write
# comes after A's: A released the lock before letting go of it, and the lock died only after
# that. Named locks of both kinds: a Semaphore (its Lock dies after the entry goes) and a Lock
# (it dies before its entry goes).
# expect: none

import threading
import time
import weakref

CACHE = {}


class NamedLocks:
    def __init__(self, factory):
        self._factory = factory
        self._locks = weakref.WeakValueDictionary()
        self._guard = threading.Lock()

    def get(self, name):
        with self._guard:
            try:
                return self._locks[name]
            except KeyError:
                lock = self._factory()
                self._locks[name] = lock
                return lock


SEMAPHORES = NamedLocks(threading.Semaphore)
LOCKS = NamedLocks(threading.Lock)


def user(registry, name):
    time.sleep(0.05)  # after the holder took its reference
    with registry.get(name):
        CACHE[name] = "user"


def holder(registry, name):
    held = registry.get(name)
    time.sleep(0.3)  # the user is done with it by now: no lock orders the two threads
    del held  # the last reference: the lock dies here
    with registry.get(name):  # a new lock for the name
        CACHE[name] = "holder"


def main():
    threads = []
    for registry, name in ((SEMAPHORES, "sem"), (LOCKS, "lock")):
        threads.append(threading.Thread(target=holder, args=(registry, name)))
        threads.append(threading.Thread(target=user, args=(registry, name)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
