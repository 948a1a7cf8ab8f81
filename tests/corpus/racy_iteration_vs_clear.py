# corpus: iterating a global dict's values while another thread clears it: two whole-dict operations race
# expect: __main__.PENDING[*]

import threading

PENDING = {"job-1": 1, "job-2": 2}
GATE = threading.Barrier(2, timeout=10)


def reporter():
    GATE.wait()
    return sum(v for v in PENDING.values())


def janitor():
    GATE.wait()
    PENDING.clear()


def main():
    threads = [threading.Thread(target=reporter), threading.Thread(target=janitor)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("pending:", len(PENDING))


if __name__ == "__main__":
    main()
