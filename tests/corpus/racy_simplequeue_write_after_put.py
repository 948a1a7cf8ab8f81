# corpus: the producer keeps writing a job's entry after handing the job over through a SimpleQueue
# expect: __main__.JOB_STATE['job-1']

# put(job) -> get() of that job orders the first write before the consumer; the
# write after put() is ordered with nothing the consumer does.

import queue
import threading

JOB_STATE = {}
HANDOFF = queue.SimpleQueue()
GATE = threading.Barrier(2, timeout=10)


class Job:
    def __init__(self, name):
        self.name = name


def producer():
    GATE.wait()
    job = Job("job-1")
    JOB_STATE[job.name] = "created"
    HANDOFF.put(job)
    JOB_STATE[job.name] = "submitted"  # bug: the consumer owns the job now


def consumer():
    GATE.wait()
    job = HANDOFF.get()
    JOB_STATE[job.name] = "running"


def main():
    threads = [threading.Thread(target=consumer), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("job-1:", JOB_STATE["job-1"])


if __name__ == "__main__":
    main()
