# corpus: as safe_weak_registry_last_user_elsewhere.py, but after the named lock died in B, B
# writes without taking the name's lock again: nothing orders its write after A's (the lock's
# death orders only whoever stores the name in the registry next)
# expect: __main__.CACHE['sem']
# expect: __main__.CACHE['lock']

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
