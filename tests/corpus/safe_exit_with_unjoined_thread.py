# corpus: a thread that is never joined explicitly reads a module global and ends before the
# program does; at exit the interpreter's finalizer clears every module's globals with no Python
# code running: that teardown is not the program racing with its threads
# expect: none

import threading
import time

SETTINGS = {"delay": 0.01}


def once():
    time.sleep(SETTINGS["delay"])


def main():
    t = threading.Thread(target=once)
    t.start()
    time.sleep(0.1)


if __name__ == "__main__":
    main()
