# corpus: a daemon thread publishes a status key and rebinds a global; the main thread polls the key in a sleep loop and reads both, never joining the daemon
# expect: __main__.STATUS['phase']
# expect: __main__.LAST_ERROR

# Polling a dict with time.sleep() in between is not synchronisation: no lock,
# no join (a daemon thread is never joined), so every poll of STATUS['phase'] and
# the read of LAST_ERROR race with the daemon's writes in every schedule; the
# loop only makes sure that both writes happen before the program ends.

import threading
import time

STATUS = {}
LAST_ERROR = None
NEVER = threading.Event()


def monitor():
    global LAST_ERROR
    LAST_ERROR = "disk full"
    STATUS["phase"] = "degraded"
    NEVER.wait()  # blocks until the interpreter exits


def main():
    threading.Thread(target=monitor, daemon=True).start()
    while STATUS.get("phase") is None:  # bug: a spin-wait orders nothing
        time.sleep(0.01)
    print("phase", STATUS["phase"], "error", LAST_ERROR)


if __name__ == "__main__":
    main()
