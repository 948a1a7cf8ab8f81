# corpus: the lock that orders the two cache writes in this run has critical sections that write
# the same counter: any schedule that swapped them would change what the counter reads, so weak
# causal precedence keeps the order and --predict reports nothing either
# expect: none

import threading
import time

CACHE = {}
COUNTS = {"audits": 0}
LOCK = threading.Lock()


def audit():
    with LOCK:
        COUNTS["audits"] = COUNTS["audits"] + 1


def loader():
    CACHE["config"] = {"v": 1}
    audit()


def reloader():
    time.sleep(0.05)
    audit()
    CACHE["config"] = {"v": 2}


def main():
    threads = [threading.Thread(target=loader), threading.Thread(target=reloader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(CACHE["config"], COUNTS["audits"])


if __name__ == "__main__":
    main()
