# corpus: a thread writes under the lock and then again after releasing it; a later locked read races with the second write
# expect: __main__.STATUS['phase']

# The first write is ordered before the reader by LOCK (release -> acquire).  The
# second write comes after the release, so nothing orders it with the read.  The
# reader takes LOCK only once the writer is done, which it learns from an attribute of an
# object pyrace does not watch: nothing that orders (no lock, no Event), however late the
# writer runs.

import threading
import time

STATUS = {"phase": "idle"}
LOCK = threading.Lock()
GATE = threading.Barrier(2, timeout=10)


class Progress:
    writer_done = False


PROGRESS = Progress()


def writer():
    GATE.wait()
    with LOCK:
        STATUS["phase"] = "running"
    STATUS["phase"] = "done"  # bug: written outside the lock
    PROGRESS.writer_done = True


def reader(out):
    GATE.wait()
    while not PROGRESS.writer_done:
        time.sleep(0.005)
    with LOCK:
        out.append(STATUS["phase"])


def main():
    seen = []
    threads = [threading.Thread(target=writer), threading.Thread(target=reader, args=(seen,))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("reader saw", seen[0])


if __name__ == "__main__":
    main()
