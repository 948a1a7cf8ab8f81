# corpus: two threads call popitem() on the same dict; both are whole-dict writes, reported as [*]
# expect: __main__.PENDING[*]

import threading

PENDING = {"x": 1, "y": 2, "z": 3}
GATE = threading.Barrier(2, timeout=10)


def take(out):
    GATE.wait()
    out.append(PENDING.popitem())


def main():
    taken = []
    threads = [threading.Thread(target=take, args=(taken,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("taken", len(taken), "left", len(PENDING))


if __name__ == "__main__":
    main()
