# corpus: each thread writes and reads only its own keys of a shared dict, no lock needed
# expect: none

import threading

SHARDS = {}


def worker(index):
    for step in range(20):
        SHARDS[index] = step
        SHARDS["name%d" % index] = "worker-%d" % index
        SHARDS.get(index)


def main():
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("shards:", len(SHARDS))


if __name__ == "__main__":
    main()
