# corpus: Event.wait(timeout) that times out is no synchronisation: the waiter reads the loader's key anyway, and the loader sets the Event only later
# expect: __main__.CONFIG['dsn']

# The loader writes the key first but sets LOADED only after the waiter has
# given up (GAVE_UP), so wait() returns False in every run and the waiter's
# read is ordered with nothing the loader did.  (It reads before setting GAVE_UP:
# set() takes the Event's lock, which the loader's GAVE_UP.wait() released.)

import threading

CONFIG = {}
LOADED = threading.Event()
GAVE_UP = threading.Event()


def loader():
    CONFIG["dsn"] = "postgres://db"
    GAVE_UP.wait()
    LOADED.set()  # too late


def main():
    t = threading.Thread(target=loader)
    t.start()
    if not LOADED.wait(timeout=0.05):
        dsn = CONFIG.get("dsn", "sqlite://")  # bug: the wait timed out, nothing orders this read
    GAVE_UP.set()
    t.join()
    print("using", dsn)


if __name__ == "__main__":
    main()
