# corpus: D.setdefault(k, v) in one thread races with D[k] = v in another
# expect: __main__.GROUPS['admins']

import threading

GROUPS = {}
GATE = threading.Barrier(2, timeout=10)


def add_default():
    GATE.wait()
    GROUPS.setdefault("admins", ["root"])


def overwrite():
    GATE.wait()
    GROUPS["admins"] = ["alice"]


def main():
    threads = [threading.Thread(target=add_default), threading.Thread(target=overwrite)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("admins:", GROUPS["admins"])


if __name__ == "__main__":
    main()
