# corpus: real but unobserved races (list, set, instance attribute dict, local dict, nested dict, global-name read, dict iteration): nothing is reported
# expect: none

# Pins the documented observation limits: pyrace watches module globals and the
# keys of dicts bound to module globals, and does not see LOAD_GLOBAL reads, dict
# iteration, lists, sets, dicts that are not bound to a module global, or the
# dicts nested inside a watched dict.  Every access below is an unsynchronised
# conflict that pyrace is expected NOT to report.

import threading

EVENTS = []
SEEN = set()
NESTED = {"inner": {}}
FLAG = False
WATCHED = {"a": 1, "b": 2}
GATE = threading.Barrier(2, timeout=10)


class Registry:
    def __init__(self):
        self.entries = {}


REGISTRY = Registry()


def worker(index, local_cache, out):
    global FLAG
    GATE.wait()
    EVENTS.append(index)  # list
    SEEN.add(index % 2)  # set
    REGISTRY.entries["x"] = index  # dict held by an instance attribute
    local_cache["x"] = index  # dict that is not a module global
    NESTED["inner"]["x"] = index  # only the read of NESTED['inner'] is watched
    if index == 0:
        FLAG = True  # the only rebinding of FLAG
    else:
        out.append(FLAG)  # global-name read: not observed
        out.append(sorted(WATCHED))  # iteration: not observed
    if index == 0:
        WATCHED["c"] = 3  # a key no other thread subscripts


def main():
    shared_local = {}
    out = []
    threads = [threading.Thread(target=worker, args=(i, shared_local, out)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("events", sorted(EVENTS), "registry", REGISTRY.entries["x"])


if __name__ == "__main__":
    main()
