# corpus: the producer keeps writing a job's entry after handing its key over through a queue.Queue
# expect: __main__.JOBS['job-1']

# put() -> get() orders the write before put() with the consumer; the write
# after put() is ordered with nothing the consumer does (the queue's mutex was
# released by put() before it), whichever of the two runs first.

import queue
import threading

JOBS = {}
WORK = queue.Queue()


def producer():
    JOBS["job-1"] = "created"
    WORK.put("job-1")
    JOBS["job-1"] = "queued"  # bug: the consumer owns the job now


def consumer():
    key = WORK.get()
    JOBS[key] = "running"
    WORK.task_done()


def main():
    threads = [threading.Thread(target=consumer), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("job-1:", JOBS["job-1"])


if __name__ == "__main__":
    main()
