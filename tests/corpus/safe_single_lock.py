# corpus: four threads read-modify-write shared keys, every access under one Lock
# expect: none

import threading

TOTALS = {}
LOCK = threading.Lock()


def add(key, times):
    for _ in range(times):
        with LOCK:
            TOTALS[key] = TOTALS.get(key, 0) + 1
            if "last" in TOTALS:
                del TOTALS["last"]
            TOTALS.setdefault("last", key)


def main():
    threads = [threading.Thread(target=add, args=(k, 50)) for k in ("a", "b", "a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("totals:", TOTALS["a"], TOTALS["b"])


if __name__ == "__main__":
    main()
