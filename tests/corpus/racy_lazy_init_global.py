# corpus: lazy initialisation of a module global (global G; if G is None: G = ...) in two threads
# expect: __main__.CLIENT

# pyrace does not see the read of CLIENT (LOAD_GLOBAL), so the race shows up as
# two unordered rebindings: the slow constructor lets both threads pass the
# "is None" check before either stores.

import threading
import time

CLIENT = None
GATE = threading.Barrier(2, timeout=10)


class Client:
    def __init__(self, owner):
        time.sleep(0.05)  # slow connection set-up
        self.owner = owner


def get_client(who):
    global CLIENT
    if CLIENT is None:
        CLIENT = Client(who)
    return CLIENT


def worker(who):
    GATE.wait()
    get_client(who)


def main():
    threads = [threading.Thread(target=worker, args=(n,)) for n in ("t1", "t2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("client owned by", CLIENT.owner)


if __name__ == "__main__":
    main()
