# corpus: a done-callback that runs in the worker writes a key that main reads right after future.result(): result() does not wait for callbacks
# expect: __main__.LOG['in_worker']

# set_result() wakes result() and releases the future's lock before it calls
# the callbacks, so the callback's write is ordered with nothing main does until
# the executor is shut down.  The Event keeps the task from finishing until
# the callback is registered, so it always runs in the worker.

import threading
import time
from concurrent.futures import ThreadPoolExecutor

LOG = {}
GO = threading.Event()


def task():
    GO.wait()
    return "result"


def callback(future):
    time.sleep(0.02)
    LOG["in_worker"] = future.result()


def main():
    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(task)
        future.add_done_callback(callback)
        GO.set()
        future.result()
        seen = LOG.get("in_worker")  # bug: the callback may not have run yet
        time.sleep(0.1)
    print("seen", seen, "final", LOG["in_worker"])


if __name__ == "__main__":
    main()
