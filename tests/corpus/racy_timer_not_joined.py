# corpus: a threading.Timer's function writes a key; the thread that started the timer writes it too, neither cancelling nor joining the timer first
# expect: __main__.SESSION['state']

# start() orders the starter's earlier writes before the timer function, but
# nothing orders the timer function with what the starter does after start():
# the sleep makes the timer fire first in this run, and makes no difference to
# happens-before.

import threading
import time

SESSION = {}


def expire():
    SESSION["state"] = "expired"


def main():
    SESSION["state"] = "open"  # before start(): ordered
    timer = threading.Timer(0.01, expire)
    timer.start()
    time.sleep(0.1)
    SESSION["state"] = "renewed"  # bug: the timer was neither cancelled nor joined
    timer.join()
    print("state:", SESSION["state"])


if __name__ == "__main__":
    main()
