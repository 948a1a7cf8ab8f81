# corpus: queue.LifoQueue hand-off: the producer writes each entry before put(), the consumer updates it after get() (newest first)
# expect: none

# A LifoQueue is a Queue with another _get(): the same mutex and conditions
# order each put() before the get() that takes the item.

import queue
import threading

PAGES = {}
STACK = queue.LifoQueue()


def producer():
    for key in ("home", "search", "cart"):
        PAGES[key] = "visited"
        STACK.put(key)


def consumer(out, count):
    for _ in range(count):
        key = STACK.get()
        PAGES[key] = PAGES[key] + ":back"
        out.append(key)


def main():
    order = []
    threads = [threading.Thread(target=consumer, args=(order, 3)), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("went back through", order, sorted(PAGES.items()))


if __name__ == "__main__":
    main()
