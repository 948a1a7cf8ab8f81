# corpus: per-key locks: a dict of locks is built before the threads start and each key is written only under its own lock
# expect: none

# KEY_LOCKS is itself a watched module-level dict, but after main() fills it the
# threads only read it.

import threading

BALANCES = {"alice": 0, "bob": 0}
KEY_LOCKS = {}


def deposit(name, times):
    lock = KEY_LOCKS[name]
    for _ in range(times):
        with lock:
            BALANCES[name] = BALANCES[name] + 1


def main():
    for name in BALANCES:
        KEY_LOCKS[name] = threading.Lock()
    threads = [threading.Thread(target=deposit, args=(n, 25)) for n in ("alice", "bob", "alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("balances:", sorted(BALANCES.items()))


if __name__ == "__main__":
    main()
