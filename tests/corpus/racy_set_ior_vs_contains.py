# corpus: one thread merges into a global set in place (s |= ...), another tests membership,
# no lock: the merge is a write of the whole set, reported as TAGS{*}
# expect: __main__.TAGS{*}

# On 3.14, S |= T runs set_ior inlined into the in-place number protocol (binary_iop1 and
# others), which pyrace probes through the set_update_internal copied there.

import threading

TAGS = {"a"}
GATE = threading.Barrier(2, timeout=10)


def merger():
    GATE.wait()
    tags = TAGS  # in place: the global itself is never rebound
    for i in range(50):
        tags |= {"t%d" % i}


def checker():
    GATE.wait()
    hits = 0
    for i in range(50):
        if "t%d" % i in TAGS:
            hits += 1
    return hits


def main():
    threads = [threading.Thread(target=merger), threading.Thread(target=checker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("tags", len(TAGS))


if __name__ == "__main__":
    main()
