# corpus: one thread appends to a global list while another takes sorted() snapshots of it,
# no lock: sorted(L) copies the list without an iterator, so its read is seen where the copy
# is made
# expect: __main__.SCORES

import threading

SCORES = [5, 3, 9]
GATE = threading.Barrier(2, timeout=10)


def recorder():
    GATE.wait()
    for i in range(100):
        SCORES.append(i % 7)


def reporter():
    GATE.wait()
    best = []
    for _ in range(20):
        best = sorted(SCORES)[-3:]
    return best


def main():
    threads = [threading.Thread(target=recorder), threading.Thread(target=reporter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("scores", len(SCORES))


if __name__ == "__main__":
    main()
