# corpus: producer fills a dict entry and passes its key through a queue.Queue; the consumer then updates it
# expect: none

import queue
import threading

ITEMS = {}
WORK = queue.Queue(maxsize=2)


def producer():
    for i in range(6):
        key = "item%d" % i
        ITEMS[key] = "new"
        WORK.put(key)
    WORK.put(None)


def consumer():
    while True:
        key = WORK.get()
        if key is None:
            WORK.task_done()
            break
        ITEMS[key] = ITEMS[key] + "+processed"
        WORK.task_done()


def main():
    cons = threading.Thread(target=consumer)
    prod = threading.Thread(target=producer)
    cons.start()
    prod.start()
    prod.join()  # every put() is done, so unfinished_tasks cannot drop to 0 early
    WORK.join()  # returns after the consumer's last task_done()
    processed = sum(1 for k in list(ITEMS) if ITEMS[k].endswith("processed"))
    cons.join()
    print("processed", processed)


if __name__ == "__main__":
    main()
