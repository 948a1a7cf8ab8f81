# corpus: a Barrier's action (run by one party after all arrived, before any is released) merges the parties' keys; all read the merge after the barrier
# expect: none

import threading

PARTS = {}


def merge():
    PARTS["sum"] = sum(PARTS["part%d" % i] for i in range(3))


ROUND = threading.Barrier(3, action=merge, timeout=10)


def party(index, out):
    PARTS["part%d" % index] = index * 10  # own key
    ROUND.wait()  # every part is written before merge() reads it; merge() runs before any wait() returns
    out.append(PARTS["sum"])


def main():
    seen = []
    threads = [threading.Thread(target=party, args=(i, seen)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("sums seen:", seen)


if __name__ == "__main__":
    main()
