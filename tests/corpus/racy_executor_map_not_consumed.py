# corpus: ThreadPoolExecutor.map: main writes a key the tasks write after calling map() but before consuming its results
# expect: __main__.STATUS['beta']

# map() submits every task at once; only each result() the iterator yields
# orders a task before main.  STATUS['alpha'] is written before map() (ordered
# by submit) and STATUS['beta'] after it, before any result: racy in every
# schedule (the tasks sleep so that, in this run, they write after main).

import time
from concurrent.futures import ThreadPoolExecutor

STATUS = {}


def run(name):
    time.sleep(0.05)
    STATUS[name] = "done"
    return name


def main():
    STATUS["alpha"] = "pending"
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = pool.map(run, ["alpha", "beta"])
        STATUS["beta"] = "pending"  # bug: the task may already be running
        finished = list(results)
    print(finished, sorted(STATUS.items()))


if __name__ == "__main__":
    main()
