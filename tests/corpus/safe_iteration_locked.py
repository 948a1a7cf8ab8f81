# corpus: iteration, items(), values() and copy() of a global dict and writes to it, all under one lock
# expect: none

import threading

REGISTRY = {"a": 1}
LOCK = threading.Lock()
GATE = threading.Barrier(3, timeout=10)


def reader():
    GATE.wait()
    for _ in range(50):
        with LOCK:
            total = sum(REGISTRY.values())
            keys = [k for k in REGISTRY]
            pairs = list(REGISTRY.items())
            copy = REGISTRY.copy()
        assert total >= 1 and keys and pairs and copy


def writer(n):
    GATE.wait()
    for i in range(50):
        with LOCK:
            REGISTRY["w%d-%d" % (n, i % 5)] = i


def main():
    threads = [threading.Thread(target=reader)] + [threading.Thread(target=writer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("entries:", len(REGISTRY))


if __name__ == "__main__":
    main()
