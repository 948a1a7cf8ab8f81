# corpus: a dict is created and filled before the threads start; the threads only read it (subscript, get, in)
# expect: none

import threading

ROUTES = {}


def lookup(paths, out):
    for path in paths:
        if path in ROUTES:
            out.append(ROUTES[path])
        else:
            out.append(ROUTES.get("default"))


def main():
    ROUTES["/"] = "index"
    ROUTES["/login"] = "auth"
    ROUTES["default"] = "404"
    outputs = [[], [], []]
    threads = [threading.Thread(target=lookup, args=(["/", "/login", "/nope"], out)) for out in outputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("lookups:", outputs[0])


if __name__ == "__main__":
    main()
