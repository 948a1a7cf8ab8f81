# corpus: the producer writes then sets an Event; waiters read and write only after wait() returns
# expect: none

import threading
import time

CONFIG = {}
LOADED = threading.Event()


def loader():
    time.sleep(0.02)
    CONFIG["dsn"] = "postgres://db"
    CONFIG["pool"] = 4
    LOADED.set()


def user(index, out):
    LOADED.wait()
    out.append((index, CONFIG["dsn"], CONFIG.get("pool")))
    CONFIG["user%d" % index] = "connected"


def main():
    seen = []
    threads = [threading.Thread(target=user, args=(i, seen)) for i in range(3)]
    threads.append(threading.Thread(target=loader))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("users connected:", len(seen))


if __name__ == "__main__":
    main()
