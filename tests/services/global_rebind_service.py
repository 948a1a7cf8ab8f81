"""A long-running program for `pyrace attach --global-reads`: one thread checks a module global
in specialised code (`if not CELLS:`) while another rebinds it, both unlocked.

    global_rebind_service.py READY_FILE

Writes READY_FILE once the check is specialised and both threads run; ends on SIGTERM or after
120 s."""
import os
import signal
import sys
import threading
import time

CELLS = []
STOP = threading.Event()


def cells_missing():
    if not CELLS:
        return True
    return False


def reader():
    while not STOP.is_set():
        cells_missing()
        time.sleep(0.001)


def rebinder():
    global CELLS
    n = 0
    while not STOP.is_set():
        n += 1
        CELLS = [] if n % 2 else ["cell%d" % n]
        time.sleep(0.005)


def main():
    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    for _ in range(2000):  # LOAD_GLOBAL_MODULE from here on
        cells_missing()
    threads = [threading.Thread(target=reader), threading.Thread(target=rebinder)]
    for t in threads:
        t.start()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    STOP.wait(120)
    STOP.set()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
