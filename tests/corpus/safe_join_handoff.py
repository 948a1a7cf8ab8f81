# corpus: children write keys and rebind a global; the parent joins each child before writing the same ones
# expect: none

import threading

RESULTS = {}
LAST = None


def child(index):
    global LAST
    RESULTS["r%d" % index] = index * index
    LAST = index


def main():
    global LAST
    threads = [threading.Thread(target=child, args=(i,)) for i in range(3)]
    threads[0].start()
    threads[0].join()
    threads[1].start()
    threads[1].join()
    threads[2].start()
    threads[2].join()
    for i in range(3):
        RESULTS["r%d" % i] = RESULTS["r%d" % i] + 1
    LAST = None
    print("results:", sorted(RESULTS.items()))


if __name__ == "__main__":
    main()
