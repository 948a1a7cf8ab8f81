# corpus: D.pop(k) in one thread races with D[k] = v in another
# expect: __main__.JOBS['job-7']

import threading

JOBS = {}
GATE = threading.Barrier(2, timeout=10)


def cancel():
    GATE.wait()
    JOBS.pop("job-7", None)


def schedule():
    GATE.wait()
    JOBS["job-7"] = "queued"


def main():
    threads = [threading.Thread(target=cancel), threading.Thread(target=schedule)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("jobs:", sorted(JOBS))


if __name__ == "__main__":
    main()
