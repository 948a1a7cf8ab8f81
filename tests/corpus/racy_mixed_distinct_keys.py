# corpus: four threads write their own keys (no race) and two of them also write one shared key (race)
# expect: __main__.STATS['shared']

import threading

STATS = {}
GATE = threading.Barrier(4, timeout=10)


def worker(index):
    GATE.wait()
    STATS["w%d" % index] = index
    if index in (1, 2):
        STATS["shared"] = index


def main():
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("keys:", sorted(STATS))


if __name__ == "__main__":
    main()
