# corpus: the same key is written under two different locks, so the locks order nothing
# expect: __main__.TABLE['owner']

import threading

TABLE = {}
LOCK_A = threading.Lock()
LOCK_B = threading.Lock()
GATE = threading.Barrier(2, timeout=10)


def writer_a():
    GATE.wait()
    with LOCK_A:
        TABLE["owner"] = "a"


def writer_b():
    GATE.wait()
    with LOCK_B:
        TABLE["owner"] = "b"


def main():
    threads = [threading.Thread(target=writer_a), threading.Thread(target=writer_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("owner:", TABLE["owner"])


if __name__ == "__main__":
    main()
