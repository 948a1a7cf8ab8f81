# corpus: whole-dict operations (popitem, clear, update into empty) run only after every writer was joined
# expect: none

import threading

BUCKET = {}


def fill(index):
    BUCKET["k%d" % index] = index


def read_back(out):
    out.append(BUCKET.get("fresh"))


def main():
    writers = [threading.Thread(target=fill, args=(i,)) for i in range(3)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    BUCKET.popitem()
    BUCKET.clear()
    BUCKET.update({"fresh": 1, "again": 2})  # into an empty dict: a whole-dict write
    seen = []
    readers = [threading.Thread(target=read_back, args=(seen,)) for _ in range(2)]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    print("readers saw", seen)


if __name__ == "__main__":
    main()
