# corpus: Event.wait(timeout) that returns True orders the setter's writes before the waiter's reads, as wait() without a timeout does
# expect: none

import threading
import time

CONFIG = {}
LOADED = threading.Event()


def loader():
    time.sleep(0.02)
    CONFIG["dsn"] = "postgres://db"
    LOADED.set()


def main():
    t = threading.Thread(target=loader)
    t.start()
    if LOADED.wait(timeout=30):
        dsn = CONFIG["dsn"]
        CONFIG["dsn"] = dsn + "?pool=4"
    else:
        raise SystemExit("loader did not finish in time")
    print("using", dsn)
    t.join()


if __name__ == "__main__":
    main()
