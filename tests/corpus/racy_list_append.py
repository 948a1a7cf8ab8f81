# corpus: two threads append to a global list with no lock; the list is one variable
# expect: __main__.ITEMS

import threading

ITEMS = []
GATE = threading.Barrier(2, timeout=10)


def producer(tag):
    GATE.wait()
    for i in range(200):
        ITEMS.append((tag, i))


def main():
    threads = [threading.Thread(target=producer, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("items", len(ITEMS))


if __name__ == "__main__":
    main()
