# corpus: check-then-add on a global set with no lock: both threads may see the job as new
# expect: __main__.SEEN{'job-7'}

import threading

SEEN = set()
GATE = threading.Barrier(2, timeout=10)
STARTED = []


def claim(job):
    GATE.wait()
    if job not in SEEN:
        SEEN.add(job)
        return True
    return False


def main():
    threads = [threading.Thread(target=claim, args=("job-7",)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("seen", sorted(SEEN))


if __name__ == "__main__":
    main()
