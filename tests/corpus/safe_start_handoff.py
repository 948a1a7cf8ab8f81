# corpus: the parent writes a key and rebinds a global, then starts a child that writes both (start orders them)
# expect: none

import threading

STATE = {}
OWNER = None


def child():
    global OWNER
    STATE["owner"] = "child"
    OWNER = "child"


def main():
    global OWNER
    STATE["owner"] = "parent"
    OWNER = "parent"
    t = threading.Thread(target=child)
    t.start()
    t.join()
    print("owner:", STATE["owner"], OWNER)


if __name__ == "__main__":
    main()
