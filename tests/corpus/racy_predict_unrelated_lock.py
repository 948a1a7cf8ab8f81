# corpus: an audit lock (its critical sections touch only an object's list, nothing watched)
# orders the two cache writes in this run: a race that another schedule shows (--predict)
# expect: none
# expect-predict: __main__.CACHE['config']

import threading
import time

CACHE = {}


class Audit:
    def __init__(self):
        self.lock = threading.Lock()
        self.lines = []

    def note(self, line):
        with self.lock:
            self.lines.append(line)


AUDIT = Audit()


def loader():
    CACHE["config"] = {"v": 1}
    AUDIT.note("loaded")


def reloader():
    time.sleep(0.05)
    AUDIT.note("reloading")
    CACHE["config"] = {"v": 2}


def main():
    threads = [threading.Thread(target=loader), threading.Thread(target=reloader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(CACHE["config"], len(AUDIT.lines))


if __name__ == "__main__":
    main()
