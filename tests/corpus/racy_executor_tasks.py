# corpus: two ThreadPoolExecutor tasks write the same key; submit->task and task->result() order nothing between the tasks
# expect: __main__.RESULTS['latest']

# The barrier inside the tasks holds both of them until each runs on its own
# worker thread (max_workers=2, and neither worker can become idle first), so
# the two writes are unordered in every schedule.

import threading
from concurrent.futures import ThreadPoolExecutor

RESULTS = {}
GATE = threading.Barrier(2, timeout=10)


def task(value):
    GATE.wait()
    RESULTS["latest"] = value
    return value


def main():
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(task, v) for v in (1, 2)]
        total = sum(f.result() for f in futures)
    print("total", total, "latest", RESULTS["latest"])


if __name__ == "__main__":
    main()
