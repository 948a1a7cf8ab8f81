# corpus: a thread writes under the lock and then again after releasing it; a later locked read races with the second write
# expect: __main__.STATUS['phase']

# The first write is ordered before the reader by LOCK (release -> acquire).  The
# second write comes after the release, so nothing orders it with the read.  The
# reader's sleep makes it take LOCK after the writer has released it.

import threading
import time

STATUS = {"phase": "idle"}
LOCK = threading.Lock()
GATE = threading.Barrier(2, timeout=10)


def writer():
    GATE.wait()
    with LOCK:
        STATUS["phase"] = "running"
    STATUS["phase"] = "done"  # bug: written outside the lock


def reader(out):
    GATE.wait()
    time.sleep(0.05)
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
