# corpus: D.clear() in one thread races with a write of one key in another; reported on that key only
# expect: __main__.REGISTRY['b']

# Both keys exist before the threads start.  clear() writes 'a' and 'b', but only
# 'b' is also touched by the other thread, so only 'b' is a race.

import threading

REGISTRY = {"a": 1, "b": 2}
GATE = threading.Barrier(2, timeout=10)


def reset():
    GATE.wait()
    REGISTRY.clear()


def register():
    GATE.wait()
    REGISTRY["b"] = 3


def main():
    threads = [threading.Thread(target=reset), threading.Thread(target=register)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("registry:", sorted(REGISTRY))


if __name__ == "__main__":
    main()
