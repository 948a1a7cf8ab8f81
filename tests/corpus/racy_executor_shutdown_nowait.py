# corpus: a ThreadPoolExecutor is shut down with wait=False; main then writes the key the still-running task writes
# expect: __main__.REPORTS['daily']

# shutdown(wait=False) returns at once and joins nothing; the interpreter joins
# the worker at exit, after main's write.  The task sleeps so that it writes
# after main in this run; happens-before orders the two writes in no schedule.
# It sleeps longer than pyrace's pause as the interpreter starts shutting down
# (~50 ms): a free-threaded worker woken during that pause would otherwise read
# concurrent.futures' _shutdown flag unordered with the exit handler's write of
# it, a real race of the standard library, but not this program's.

import time
from concurrent.futures import ThreadPoolExecutor

REPORTS = {}


def build(name):
    time.sleep(0.3)
    REPORTS[name] = "built " + name


def main():
    pool = ThreadPoolExecutor(max_workers=1)
    pool.submit(build, "daily")
    pool.shutdown(wait=False)
    REPORTS["daily"] = "skipped"  # bug: the task has not necessarily run yet


if __name__ == "__main__":
    main()
