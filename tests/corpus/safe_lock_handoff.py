# corpus: a Lock acquired by main is released by a worker after it writes; main's second acquire orders the hand-off
# expect: none

# Lock.release() from a thread that did not acquire it is allowed for Lock (not
# RLock); release -> later acquire orders the worker's writes before main's.

import threading
import time

DATA = {}
HANDOFF = threading.Lock()


def worker():
    time.sleep(0.02)
    DATA["result"] = 42
    DATA["status"] = "ready"
    HANDOFF.release()


def main():
    HANDOFF.acquire()
    t = threading.Thread(target=worker)
    t.start()
    HANDOFF.acquire()  # blocks until the worker releases
    DATA["result"] = DATA["result"] + 1
    DATA["status"] = "consumed"
    HANDOFF.release()
    t.join()
    print("DATA:", sorted(DATA.items()))


if __name__ == "__main__":
    main()
