# corpus: the main thread joins one worker but not the other before writing both workers' keys
# expect: __main__.OUTPUT['b']

# join(worker_a) orders OUTPUT['a']; worker_b is still running (it waits for
# DONE, which main sets only after its writes), so its write of OUTPUT['b'] is
# unordered with main's.  Keeping worker_b alive until then also keeps its exit
# (which takes threading's internal lock) from ordering anything.

import threading

OUTPUT = {}
DONE = threading.Event()


def worker_a():
    OUTPUT["a"] = "from a"


def worker_b():
    OUTPUT["b"] = "from b"
    DONE.wait()


def main():
    ta = threading.Thread(target=worker_a)
    tb = threading.Thread(target=worker_b)
    ta.start()
    tb.start()
    ta.join()
    OUTPUT["a"] = "merged a"
    OUTPUT["b"] = "merged b"  # bug: tb was never joined
    DONE.set()
    tb.join()
    print("output:", sorted(OUTPUT.items()))


if __name__ == "__main__":
    main()
