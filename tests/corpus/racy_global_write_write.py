# corpus: two threads rebind the same module global (global COUNTER; COUNTER += 1) without a lock
# expect: __main__.COUNTER

import threading

COUNTER = 0
GATE = threading.Barrier(2, timeout=10)


def bump():
    global COUNTER
    GATE.wait()
    for _ in range(10):
        COUNTER += 1


def main():
    threads = [threading.Thread(target=bump) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("COUNTER =", COUNTER)


if __name__ == "__main__":
    main()
