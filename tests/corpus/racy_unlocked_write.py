# corpus: two threads write the same key of a module-level dict without any lock
# expect: __main__.CACHE['a']

# The barrier only makes sure both threads are running (and past their start-up
# bookkeeping, which takes threading's internal locks) before either writes;
# nothing orders the two writes that follow it.

import threading

CACHE = {}
GATE = threading.Barrier(2, timeout=10)


def worker(value):
    GATE.wait()
    CACHE["a"] = value


def main():
    threads = [threading.Thread(target=worker, args=(v,)) for v in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("CACHE['a'] =", CACHE["a"])


if __name__ == "__main__":
    main()
