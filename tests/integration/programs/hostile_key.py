# Two threads write one key that is HTML: a report must show it as text, never run it.
import threading

CACHE = {}
GATE = threading.Barrier(2, timeout=10)
KEY = "<script>alert(1)</script>"


def worker(value):
    GATE.wait()
    CACHE[KEY] = value


def main():
    threads = [threading.Thread(target=worker, args=(v,)) for v in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
