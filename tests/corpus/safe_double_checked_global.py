# corpus: double-checked locking on a module global: the unlocked "is None" read is invisible and the only rebinding is under the lock
# expect: none

import threading
import time

SERVICE = None
LOCK = threading.Lock()


class Service:
    def __init__(self):
        time.sleep(0.02)


def get_service():
    global SERVICE
    if SERVICE is None:
        with LOCK:
            if SERVICE is None:
                SERVICE = Service()
    return SERVICE


def main():
    got = []
    threads = [threading.Thread(target=lambda: got.append(get_service())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("one service:", len(set(map(id, got))) == 1)


if __name__ == "__main__":
    main()
