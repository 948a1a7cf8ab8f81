# corpus: every access of a global list from the workers is under one lock; main reads it
# only after joining them
# expect: none

import threading

ITEMS = []
LOCK = threading.Lock()


def producer(tag):
    for i in range(200):
        with LOCK:
            ITEMS.append((tag, i))
            if len(ITEMS) > 150:
                ITEMS.pop(0)
        with LOCK:
            for item in ITEMS:
                if item == (tag, -1):
                    break
            ITEMS.sort()


def main():
    threads = [threading.Thread(target=producer, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("items", len(ITEMS), (("a", 1) in ITEMS))


if __name__ == "__main__":
    main()
