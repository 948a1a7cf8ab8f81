# corpus: one threading.Timer is joined before the starter writes the key its function wrote; another is cancelled before it fires, then joined
# expect: none

import threading

SESSION = {}


def expire():
    SESSION["state"] = "expired"


def evict():
    SESSION["evicted"] = True


def main():
    SESSION["state"] = "open"
    timer = threading.Timer(0.01, expire)
    timer.start()
    timer.join()  # the timer thread's end orders its write before ours
    SESSION["state"] = "reopened"

    late = threading.Timer(30.0, evict)
    late.start()
    late.cancel()  # it never runs evict()
    late.join()
    SESSION["evicted"] = False
    print("session:", sorted(SESSION.items()))


if __name__ == "__main__":
    main()
