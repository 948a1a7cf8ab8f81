# corpus: double-checked locking on a module global: the unlocked "is None" check races with the locked rebinding
# expect: __main__.SERVICE
# expect-3.13: none (LOAD_GLOBAL specialises on its second execution: the only unlocked read seen precedes every write)
# expect-3.13t: __main__.SERVICE (the free-threaded build does not specialise: every LOAD_GLOBAL reaches the dict lookup)
# expect-3.14: none (LOAD_GLOBAL specialises on its second execution, as on 3.13: the only unlocked read seen precedes every write)

# Like racy_double_checked_dict.py: the first check reads SERVICE outside LOCK, so nothing orders
# it with the rebinding another thread does under LOCK. (LOAD_GLOBAL reads are seen while the
# function is not yet specialised, which holds for its first calls.)

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
