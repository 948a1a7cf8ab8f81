# corpus: check-then-act on a dict key (if k not in D: D[k] = ...) in two threads, no lock
# expect: __main__.SETTINGS['config']

# The membership test is a read of SETTINGS['config'] and the store a write, so
# whichever thread loses the race still conflicts with the winner's write.

import threading
import time

SETTINGS = {}
GATE = threading.Barrier(2, timeout=10)


def load_config(who):
    time.sleep(0.01)  # pretend to parse a file
    return {"loaded_by": who}


def ensure_config(who):
    GATE.wait()
    if "config" not in SETTINGS:
        SETTINGS["config"] = load_config(who)


def main():
    threads = [threading.Thread(target=ensure_config, args=(n,)) for n in ("t1", "t2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("config loaded by", SETTINGS["config"]["loaded_by"])


if __name__ == "__main__":
    main()
