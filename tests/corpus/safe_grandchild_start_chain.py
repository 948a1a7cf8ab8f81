# corpus: main starts a child that starts a grandchild; writes of one key are ordered by the chain of start() and join() calls alone
# expect: none

# main's write -> start(child) -> child's write -> start(grandchild) ->
# grandchild's write -> end -> join in child -> child's write -> end -> join in
# main -> main's read: one happens-before chain, no lock.

import threading

TREE = {}


def grandchild():
    TREE["owner"] = TREE["owner"] + ">grandchild"


def child():
    TREE["owner"] = TREE["owner"] + ">child"
    t = threading.Thread(target=grandchild)
    t.start()
    t.join()
    TREE["owner"] = TREE["owner"] + ">child again"


def main():
    TREE["owner"] = "main"
    t = threading.Thread(target=child)
    t.start()
    t.join()
    print(TREE["owner"])


if __name__ == "__main__":
    main()
