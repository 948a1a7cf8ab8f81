# corpus: the `if not CELLS:` check of specialised code and the rebinding of CELLS both hold LOCK
# expect: none
# options: --global-reads

# The locked twin of racy_global_read_rebind_specialised.py: with --global-reads every check is
# seen as a read of CELLS, and LOCK orders each of them with the rebinding.

import threading
import time

CELLS = []
LOCK = threading.Lock()
GATE = threading.Barrier(2, timeout=10)


def cells_missing():
    with LOCK:
        if not CELLS:
            return True
        return False


def reader():
    GATE.wait()
    misses = 0
    for _ in range(300):
        if cells_missing():
            misses += 1
        time.sleep(0.0005)
    print("misses", misses)


def writer():
    global CELLS
    GATE.wait()
    time.sleep(0.02)
    with LOCK:
        CELLS = ["cell0", "cell1"]


def main():
    for _ in range(2000):  # specialise cells_missing
        cells_missing()
    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
