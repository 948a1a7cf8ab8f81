# corpus: D.update({...}) into a non-empty dict races with a write of one of the updated keys
# expect: __main__.LIMITS['cpu']

# LIMITS is never empty, so update() writes exactly the keys it is given: 'cpu'
# races with the other thread, 'ram' does not.

import threading

LIMITS = {"disk": 100}
GATE = threading.Barrier(2, timeout=10)


def apply_profile():
    GATE.wait()
    LIMITS.update({"cpu": 4, "ram": 8})


def set_cpu():
    GATE.wait()
    LIMITS["cpu"] = 2


def main():
    threads = [threading.Thread(target=apply_profile), threading.Thread(target=set_cpu)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("limits:", sorted(LIMITS.items()))


if __name__ == "__main__":
    main()
