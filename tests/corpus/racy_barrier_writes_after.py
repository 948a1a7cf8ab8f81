# corpus: two parties meet at a Barrier and then both write the same key: the barrier orders what came before it, not the writes after it
# expect: __main__.LEADER['name']

import threading

LEADER = {}
ROUND = threading.Barrier(2, timeout=10)


def party(name):
    LEADER["candidate_" + name] = name  # own key, before the barrier: fine
    ROUND.wait()
    LEADER["name"] = name  # bug: both parties write it after the barrier, unordered


def main():
    threads = [threading.Thread(target=party, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("leader:", LEADER["name"])


if __name__ == "__main__":
    main()
