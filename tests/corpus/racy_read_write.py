# corpus: one thread reads a key (subscript and .get) while another writes it, no lock
# expect: __main__.PRICES['widget']

import threading

PRICES = {"widget": 10}
GATE = threading.Barrier(2, timeout=10)


def reader(out):
    GATE.wait()
    out.append(PRICES["widget"])
    out.append(PRICES.get("widget"))


def writer():
    GATE.wait()
    PRICES["widget"] = 12


def main():
    seen = []
    threads = [threading.Thread(target=reader, args=(seen,)), threading.Thread(target=writer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("reader saw", len(seen), "values")


if __name__ == "__main__":
    main()
