# corpus: a ThreadPoolExecutor is shut down with wait=False; main then writes the key the still-running task writes
# expect: __main__.REPORTS['daily']

# shutdown(wait=False) returns at once and joins nothing; the interpreter joins
# the worker at exit, after main's write.  The task sleeps so that it writes
# after main in this run; happens-before orders the two writes in no schedule.

import time
from concurrent.futures import ThreadPoolExecutor

REPORTS = {}


def build(name):
    time.sleep(0.05)
    REPORTS[name] = "built " + name


def main():
    pool = ThreadPoolExecutor(max_workers=1)
    pool.submit(build, "daily")
    pool.shutdown(wait=False)
    REPORTS["daily"] = "skipped"  # bug: the task has not necessarily run yet


if __name__ == "__main__":
    main()
