# corpus: a child thread starts two grandchildren that both write one key; starting them from the same parent orders each after the parent, not one after the other
# expect: __main__.TREE['last']

# The child's write before the starts is ordered with both grandchildren
# (TREE['first']); the siblings' writes are unordered with each other whichever
# finishes first, since neither is joined before the other starts.

import threading
import time

TREE = {}


def grandchild(name, delay):
    time.sleep(delay)
    TREE["last"] = name


def child():
    TREE["first"] = "child"
    kids = [threading.Thread(target=grandchild, args=(n, d)) for n, d in (("g1", 0.0), ("g2", 0.05))]
    for k in kids:
        k.start()
    for k in kids:
        k.join()
    TREE["first"] = TREE["last"]


def main():
    t = threading.Thread(target=child)
    t.start()
    t.join()
    print(sorted(TREE.items()))


if __name__ == "__main__":
    main()
