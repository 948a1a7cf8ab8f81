# corpus: three threads write their own key, meet at a Barrier, then read every key; a second phase repeats it
# expect: none

import threading

PARTIAL = {}
BARRIER = threading.Barrier(3, timeout=10)


def worker(index):
    PARTIAL[index] = index + 1
    BARRIER.wait()  # all phase-1 writes happen before any phase-1 read
    total = sum(PARTIAL[i] for i in range(3))
    BARRIER.wait()  # all phase-1 reads happen before any phase-2 write
    PARTIAL[index] = total * 10
    BARRIER.wait()
    return PARTIAL[(index + 1) % 3]


def main():
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("partial:", sorted(PARTIAL.items()))


if __name__ == "__main__":
    main()
