# corpus: two threads write the same key 200 times each; many racing pairs, still one report entry
# expect: __main__.METRICS['hits']

import threading

METRICS = {"hits": 0}
GATE = threading.Barrier(2, timeout=10)


def hammer():
    GATE.wait()
    for _ in range(200):
        METRICS["hits"] = METRICS["hits"] + 1


def main():
    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("hits:", METRICS["hits"])


if __name__ == "__main__":
    main()
