# corpus: two threads race on int keys 3 and 7 of a module-level dict; keys 1 and 2 are private
# expect: __main__.SLOTS[3]
# expect: __main__.SLOTS[7]

import threading

SLOTS = {}
GATE = threading.Barrier(2, timeout=10)


def fill(private_slot, tag):
    GATE.wait()
    SLOTS[private_slot] = tag
    SLOTS[3] = tag
    SLOTS[7] = tag


def main():
    threads = [threading.Thread(target=fill, args=(1, "x")), threading.Thread(target=fill, args=(2, "y"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("slots:", sorted(SLOTS))


if __name__ == "__main__":
    main()
