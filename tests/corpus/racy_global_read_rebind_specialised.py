# corpus: an unlocked `if not CELLS:` check in specialised code races with another thread rebinding CELLS
# expect: __main__.CELLS
# options: --global-reads

# The check runs in a function warmed up before the threads start, so by then its LOAD_GLOBAL is
# specialised (LOAD_GLOBAL_MODULE reads the module dict's entry directly, no dict function runs)
# and pyrace sees none of the reader's reads without --global-reads: the run reports nothing.
# With it the target runs unspecialised while traced and each check is a read of CELLS that
# nothing orders with the rebinding.

import threading
import time

CELLS = []
GATE = threading.Barrier(2, timeout=10)


def cells_missing():
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
