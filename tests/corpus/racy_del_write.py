# corpus: del D[k] in one thread races with D[k] = v in another
# expect: __main__.SESSIONS['alice']

# The key exists before the threads start, so the del succeeds whichever thread
# runs first.

import threading

SESSIONS = {"alice": "token-0"}
GATE = threading.Barrier(2, timeout=10)


def logout():
    GATE.wait()
    del SESSIONS["alice"]


def refresh():
    GATE.wait()
    SESSIONS["alice"] = "token-1"


def main():
    threads = [threading.Thread(target=logout), threading.Thread(target=refresh)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("sessions:", sorted(SESSIONS))


if __name__ == "__main__":
    main()
