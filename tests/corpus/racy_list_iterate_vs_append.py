# corpus: one thread walks a global list while another appends to it, no lock: the walk may
# see some of the new items or none
# expect: __main__.ITEMS

import threading

ITEMS = list(range(10))
GATE = threading.Barrier(2, timeout=10)


def writer():
    GATE.wait()
    for i in range(100):
        ITEMS.append(i)


def reader():
    GATE.wait()
    total = 0
    for _ in range(20):
        for item in ITEMS:
            total += item
    return total


def main():
    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("items", len(ITEMS))


if __name__ == "__main__":
    main()
