# corpus: keys built just before the call ("user-%d" % n), whose hash CPython has not computed
# yet when dict.get/pop/in begin: the get of an equal key races with the writer's stores, and a
# pop of other fresh keys touches nothing the writer writes
# expect: __main__.CACHE['user-7']

import threading
import time

CACHE = {}


def writer():
    for i in range(30):
        CACHE["user-%d" % 7] = i
        time.sleep(0.001)


def reader(out):
    for i in range(30):
        out.append(CACHE.get("user-%d" % 7))
        out.append("user-%d" % 8 in CACHE)
        out.append(CACHE.pop("other-%d" % i, None))
        time.sleep(0.001)


def main():
    seen = []
    threads = [threading.Thread(target=writer), threading.Thread(target=reader, args=(seen,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(len(seen), "reads")


if __name__ == "__main__":
    main()
