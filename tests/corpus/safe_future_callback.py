# corpus: Future.add_done_callback: a callback that runs in the worker is read only after shutdown(wait=True); one added to a done future runs in the caller at once
# expect: none

# The first callback is added while its task is held by an Event, so it runs
# in the worker thread after the result is set: main reads its write only
# after joining the workers.  The second future is already done when its
# callback is added, so add_done_callback() calls it in main itself.

import threading
from concurrent.futures import ThreadPoolExecutor

LOG = {}
GO = threading.Event()


def slow():
    GO.wait()
    return "slow result"


def fast():
    return "fast result"


def record(name):
    def callback(future):
        LOG[name] = future.result()
    return callback


def main():
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(slow)
        pending.add_done_callback(record("in_worker"))  # runs in the worker
        GO.set()
        done = pool.submit(fast)
        done.result()
        done.add_done_callback(record("in_caller"))  # runs here, now
        LOG["in_caller"] = LOG["in_caller"].upper()
    LOG["in_worker"] = LOG["in_worker"].upper()  # after the workers were joined
    print(sorted(LOG.items()))


if __name__ == "__main__":
    main()
