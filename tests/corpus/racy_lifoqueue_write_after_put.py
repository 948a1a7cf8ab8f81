# corpus: queue.LifoQueue: the producer writes an entry again after pushing its key; the consumer writes it after popping it
# expect: __main__.PAGES['cart']

import queue
import threading

PAGES = {}
STACK = queue.LifoQueue()


def producer():
    PAGES["cart"] = "visited"
    STACK.put("cart")
    PAGES["cart"] = "visited twice"  # bug: after the hand-off


def consumer():
    key = STACK.get()
    PAGES[key] = "back"


def main():
    threads = [threading.Thread(target=consumer), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("cart:", PAGES["cart"])


if __name__ == "__main__":
    main()
