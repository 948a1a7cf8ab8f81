# corpus: one thread iterates a global dict (for k in D, items(), copy()) while another writes a key without a lock
# expect: __main__.SUBSCRIBERS['carol']

import threading

SUBSCRIBERS = {"alice": 1, "bob": 2}
GATE = threading.Barrier(2, timeout=10)


def notifier():
    GATE.wait()
    total = 0
    for name in SUBSCRIBERS:
        total += len(name)
    for name, level in SUBSCRIBERS.items():
        total += level
    snapshot = SUBSCRIBERS.copy()
    return total + len(snapshot)


def subscriber():
    GATE.wait()
    SUBSCRIBERS["carol"] = 3


def main():
    threads = [threading.Thread(target=notifier), threading.Thread(target=subscriber)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("subscribers:", sorted(SUBSCRIBERS))


if __name__ == "__main__":
    main()
