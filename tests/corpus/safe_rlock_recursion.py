# corpus: transfers between accounts under an RLock that the same thread re-acquires recursively
# expect: none

import threading

LEDGER = {"alice": 100, "bob": 100, "carol": 100}
LOCK = threading.RLock()


def credit(account, amount):
    with LOCK:  # re-entered when called from transfer()
        LEDGER[account] = LEDGER[account] + amount


def transfer(src, dst, amount):
    with LOCK:
        credit(src, -amount)
        credit(dst, amount)


def worker(src, dst):
    for _ in range(20):
        transfer(src, dst, 1)


def main():
    pairs = [("alice", "bob"), ("bob", "carol"), ("carol", "alice"), ("alice", "carol")]
    threads = [threading.Thread(target=worker, args=p) for p in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("ledger:", sorted(LEDGER.items()), "sum", sum(LEDGER.values()))


if __name__ == "__main__":
    main()
