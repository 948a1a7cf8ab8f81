# corpus: a module-global dict keyed by thread name, written without a lock; two threads were given the same name, so they write the same key
# expect: __main__.STATS['worker']

# The pattern of safe_thread_local_state.py is safe only while every key
# belongs to one thread: Thread(name=...) does not make names unique.  The
# third thread's own key is not reported.

import threading

STATS = {}
GATE = threading.Barrier(3, timeout=10)


def handle(requests):
    GATE.wait()
    served = 0
    for _ in range(requests):
        served += 1
        STATS[threading.current_thread().name] = served


def main():
    threads = [
        threading.Thread(target=handle, args=(3,), name="worker"),
        threading.Thread(target=handle, args=(4,), name="worker"),  # bug: same name
        threading.Thread(target=handle, args=(5,), name="auditor"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(STATS.items()))


if __name__ == "__main__":
    main()
