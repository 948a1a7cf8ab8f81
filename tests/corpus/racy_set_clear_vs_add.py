# corpus: a global set cleared by one thread while another adds to it, no lock: clear() is a
# write of the whole set, reported as SEEN{*}
# expect: __main__.SEEN{*}

import threading

SEEN = set()
GATE = threading.Barrier(2, timeout=10)


def adder():
    GATE.wait()
    for i in range(50):
        SEEN.add("user-%d" % i)


def resetter():
    GATE.wait()
    SEEN.clear()


def main():
    threads = [threading.Thread(target=adder), threading.Thread(target=resetter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("seen", len(SEEN))


if __name__ == "__main__":
    main()
