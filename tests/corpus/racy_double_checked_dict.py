# corpus: double-checked locking on a dict key; the unlocked membership test races with the locked write
# expect: __main__.CONNECTIONS['db']

# The write happens under LOCK, but the first "not in" check is outside it, and
# that read is ordered with nothing the other thread does under the lock.

import threading

CONNECTIONS = {}
LOCK = threading.Lock()
GATE = threading.Barrier(2, timeout=10)


def get_connection():
    if "db" not in CONNECTIONS:
        with LOCK:
            if "db" not in CONNECTIONS:
                CONNECTIONS["db"] = object()
    return CONNECTIONS["db"]


def worker():
    GATE.wait()
    get_connection()


def main():
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("connections:", sorted(CONNECTIONS))


if __name__ == "__main__":
    main()
