"""A small test suite with a race for pyrace's test-runner support (run it with pytest or
unittest under `pyrace run`). Each test is named in the races found during it."""
import threading
import unittest

CACHE = {}
LOCKED = {}
LOCK = threading.Lock()


def fill(key, value):
    CACHE[key] = value  # no lock: races with fill() in another thread


def fill_locked(key, value):
    with LOCK:
        LOCKED[key] = value


def run_threads(target, *args):
    threads = [threading.Thread(target=target, args=args) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class TestCache(unittest.TestCase):
    def test_racy_fill(self):
        # the race is in the worker threads, which the test started
        run_threads(fill, "shared", 1)
        self.assertEqual(CACHE["shared"], 1)

    def test_locked_fill(self):
        run_threads(fill_locked, "shared", 2)
        self.assertEqual(LOCKED["shared"], 2)


def test_direct_write():
    # the test function itself writes while a thread it started writes too
    t = threading.Thread(target=fill, args=("direct", 3))
    t.start()
    CACHE["direct"] = 4
    t.join()
