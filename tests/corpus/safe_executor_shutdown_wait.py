# corpus: tasks submitted to a ThreadPoolExecutor and never waited on individually; main reads their keys after shutdown(wait=True)
# expect: none

# shutdown(wait=True) joins every worker thread: the end of each worker orders
# all the tasks it ran before main's reads and writes.

from concurrent.futures import ThreadPoolExecutor

REPORTS = {}


def build(name):
    REPORTS[name] = "built " + name


def main():
    pool = ThreadPoolExecutor(max_workers=3)
    for name in ("daily", "weekly", "monthly"):
        pool.submit(build, name)  # futures dropped
    pool.shutdown(wait=True)
    REPORTS["daily"] = REPORTS["daily"] + " and sent"
    print(sorted(REPORTS.items()))


if __name__ == "__main__":
    main()
