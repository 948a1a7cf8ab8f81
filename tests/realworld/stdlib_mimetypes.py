#!/usr/bin/python3.11
"""First use of the standard library's mimetypes module from several threads at once.

mimetypes initialises itself lazily: guess_type(), guess_extension(), add_type() ... all do
`if _db is None: init()`, and init() builds a whole MimeTypes database (reading
/etc/mime.types and the other known files) before rebinding the module globals `inited`,
`encodings_map`, `suffix_map`, `types_map`, `common_types` and, last, `_db`. Nothing locks it.
(Python issue #5853 was the first symptom of this: concurrent first calls recursed until the
recursion limit; the `inited = True` at the top of init() is its fix.)

THREADS threads are released together by a Barrier into their first mimetypes call; half of them
also register a type of their own with add_type() right away. Afterwards the script checks which
of those registrations survived: a registration made on one thread's freshly built database is
lost when another thread's init(), started earlier, finishes later and rebinds `_db`.

Exits 0 (a lost registration is reported on stdout, not as a failure: it depends on timing).

    /usr/bin/python3.11 tests/realworld/stdlib_mimetypes.py [--threads N]
"""

import argparse
import sys
import threading

import mimetypes

REGISTERED = "application/x-pyrace-%d"


def worker(index, start, errors):
    try:
        start.wait()
        if index % 2:
            mimetypes.add_type(REGISTERED % index, ".pyrace%d" % index)
        kind, _ = mimetypes.guess_type("index.html")
        if kind != "text/html":
            raise AssertionError("guess_type('index.html') = %r" % (kind,))
        if mimetypes.guess_extension("application/json") != ".json":
            raise AssertionError("guess_extension('application/json') = %r"
                                 % (mimetypes.guess_extension("application/json"),))
    except BaseException as exc:
        errors.append("thread %d: %s: %s" % (index, type(exc).__name__, exc))
        start.abort()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    if mimetypes.inited:
        print("stdlib_mimetypes: mimetypes was initialised before the threads started",
              file=sys.stderr)
        return 1
    start = threading.Barrier(args.threads)
    errors = []
    threads = [threading.Thread(target=worker, args=(i, start, errors))
               for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for e in errors:
            print("stdlib_mimetypes: %s" % e, file=sys.stderr)
        return 1
    lost = [i for i in range(1, args.threads, 2)
            if mimetypes.guess_type("f.pyrace%d" % i)[0] != REGISTERED % i]
    consistent = mimetypes.types_map is mimetypes._db.types_map[True]
    print("stdlib_mimetypes: %d threads; add_type registrations lost: %s; "
          "mimetypes.types_map is _db's: %s"
          % (args.threads, ", ".join(".pyrace%d" % i for i in lost) or "none", consistent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
