# corpus: an RLock taken again while its holder also holds another lock is a re-entry, not a new
# lock order: the thread cannot wait for a lock it holds
# expect: none

import threading

OUTER = threading.RLock()
INNER = threading.Lock()


def work():
    for _ in range(3):
        with OUTER:
            with INNER:
                with OUTER:
                    pass


def main():
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("done")


if __name__ == "__main__":
    main()
