# corpus: per-thread state in a threading.local (never shared), and a module-global dict keyed by each thread's own name, written without a lock
# expect: none

# Each thread writes only STATS[<its own name>]: distinct keys never conflict.
# The threading.local is not a watched variable, and each thread sees only its
# own attributes anyway.  Main reads every key after joining.

import threading

LOCAL = threading.local()
STATS = {}


def handle(requests):
    LOCAL.connection = "conn-" + threading.current_thread().name
    LOCAL.served = 0
    for _ in range(requests):
        LOCAL.served += 1
        STATS[threading.current_thread().name] = LOCAL.served


def main():
    threads = [threading.Thread(target=handle, args=(n,), name="worker-%d" % n) for n in (3, 4, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(STATS.items()))


if __name__ == "__main__":
    main()
