# corpus: a two-level cache, CACHE[tenant][key], whose inner dicts are created on first use; the
# inner writes of one tenant race, another tenant's keys (written under a lock) do not
# expect: __main__.CACHE['acme']['quota']

import threading

CACHE = {}
LOCK = threading.Lock()


def remember(tenant, key, value):
    CACHE.setdefault(tenant, {})[key] = value


def worker(i):
    with LOCK:
        remember("globex", "plan", i)  # a tenant kept under the lock
    remember("acme", "quota", i)  # no lock


def main():
    with LOCK:
        CACHE["acme"] = {}
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sorted(CACHE), CACHE["acme"]["quota"] in (0, 1, 2))


if __name__ == "__main__":
    main()
