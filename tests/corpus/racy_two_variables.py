# corpus: one program with two independent races: a dict key and a global rebinding
# expect: __main__.CONFIG['mode']
# expect: __main__.GENERATION

import threading

CONFIG = {"mode": "boot"}
GENERATION = 0
GATE = threading.Barrier(2, timeout=10)


def reconfigure(mode):
    global GENERATION
    GATE.wait()
    CONFIG["mode"] = mode
    GENERATION = GENERATION + 1


def main():
    threads = [threading.Thread(target=reconfigure, args=(m,)) for m in ("fast", "safe")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("mode", CONFIG["mode"], "generation", GENERATION)


if __name__ == "__main__":
    main()
