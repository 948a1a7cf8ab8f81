# corpus: del of a module global in one thread races with its rebinding in another
# expect: __main__.SESSION

# SESSION exists before the threads start and only one thread deletes it, so the
# del never raises whichever thread runs first.

import threading

SESSION = "initial"
GATE = threading.Barrier(2, timeout=10)


def drop():
    global SESSION
    GATE.wait()
    del SESSION


def renew():
    global SESSION
    GATE.wait()
    SESSION = "renewed"


def main():
    threads = [threading.Thread(target=drop), threading.Thread(target=renew)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("SESSION bound:", "SESSION" in globals())


if __name__ == "__main__":
    main()
