# corpus: a module global is rebound (and deleted/recreated) by several threads, always under one Lock
# expect: none

import threading

VERSION = 0
SNAPSHOT = None
LOCK = threading.Lock()


def publish(times):
    global VERSION, SNAPSHOT
    for _ in range(times):
        with LOCK:
            VERSION = VERSION + 1
            if SNAPSHOT is not None:
                del SNAPSHOT
            SNAPSHOT = ("v", VERSION)


def main():
    threads = [threading.Thread(target=publish, args=(15,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("VERSION", VERSION, SNAPSHOT)


if __name__ == "__main__":
    main()
