# corpus: jobs are handed over through a SimpleQueue (put -> get of the same object) and answered on a second one
# expect: none

# Every job and every reply is a distinct object that stays alive until the end;
# a job's JOB_STATE entry is written by main before put(job), by the worker after
# get() returns that job, and by main again after it gets the job's reply.

import queue
import threading

JOB_STATE = {}
REQUESTS = queue.SimpleQueue()
REPLIES = queue.SimpleQueue()


class Job:
    def __init__(self, name):
        self.name = name


class Reply:
    def __init__(self, name):
        self.name = name


def worker():
    while True:
        job = REQUESTS.get()
        if job is None:
            break
        JOB_STATE[job.name] = JOB_STATE[job.name] + ":done"
        REPLIES.put(Reply(job.name))


def main():
    t = threading.Thread(target=worker)
    t.start()
    jobs = [Job("job%d" % i) for i in range(4)]
    for job in jobs:
        JOB_STATE[job.name] = "queued"
        REQUESTS.put(job)
    replies = []
    for _ in jobs:
        reply = REPLIES.get()
        replies.append(reply)
        JOB_STATE[reply.name] = JOB_STATE[reply.name] + ":seen"
    REQUESTS.put(None)
    t.join()
    print("states:", sorted(JOB_STATE.values()))


if __name__ == "__main__":
    main()
