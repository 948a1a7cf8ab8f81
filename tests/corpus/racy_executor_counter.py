# corpus: read-modify-write of one counter key from three ThreadPoolExecutor tasks (map), no lock
# expect: __main__.COUNTS['requests']

# Each task sleeps before touching the counter, so all three are submitted and
# running on three different workers before any of them finishes.

import time
from concurrent.futures import ThreadPoolExecutor

COUNTS = {"requests": 0}


def handle(n):
    time.sleep(0.05)
    COUNTS["requests"] = COUNTS["requests"] + 1
    return n * 2


def main():
    with ThreadPoolExecutor(max_workers=3) as pool:
        doubled = list(pool.map(handle, range(3)))
    print(doubled, "requests:", COUNTS["requests"])


if __name__ == "__main__":
    main()
