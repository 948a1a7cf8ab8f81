# corpus: two threads store the same key with a logging call between the stores; the handler's
# lock happens to order them in this run (the second thread logs after the first), but its
# critical sections share nothing with the stores: in another schedule they race (--predict)
# expect: none
# expect-predict: __main__.CACHE['k']

import logging
import threading
import time

logging.basicConfig(level=logging.INFO, format="%(threadName)s %(message)s")
log = logging.getLogger("corpus")
CACHE = {}


def first():
    CACHE["k"] = "first"
    log.info("stored")


def second():
    time.sleep(0.05)
    log.info("storing")
    CACHE["k"] = "second"


def main():
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("k =", CACHE["k"])


if __name__ == "__main__":
    main()
