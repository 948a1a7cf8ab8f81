# corpus: 200 threads, each writing its own key, all writing one shared key without a lock
# expect: __main__.TABLE['shared']

import threading

TABLE = {}
GATE = threading.Barrier(200, timeout=30)


def worker(n):
    GATE.wait()
    TABLE["own-%d" % n] = n
    TABLE["shared"] = n


def main():
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("keys:", len(TABLE))


if __name__ == "__main__":
    main()
