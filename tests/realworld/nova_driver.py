#!/usr/bin/python3.11
"""Drives the real nova.context (Debian's python3-nova 26.2.2) from several native threads.

No server, no network: the API database and three cell databases are sqlite files in a
temporary directory, every cell's transport_url is 'none:///' (so set_target_cell never asks
oslo.messaging for a transport), eventlet monkey patching is off
(OS_NOVA_DISABLE_EVENTLET_PATCHING=1, as nova-api runs under mod_wsgi/uwsgi with native
threads) and nothing is imported from nova.cmd or nova.api, which would patch. The only
socket calls (strace) are made at import by nova.conf's `my_ip` default (a UDP connect() to
192.0.2.0, which sends nothing) and an IPv6 availability probe binding ::1: no packet leaves.

What runs concurrently, on THREADS native "API worker" threads released together by a Barrier:
  - nova.context.load_cells() with nova.context.CELLS reset to [] first, so that several
    threads find it empty and rebind it (the unlocked check-then-rebind under test), then
    scatter_gather_all_cells(), which calls load_cells() again and reads CELLS;
  - after a second Barrier (so that the driver's own read of CELLS is ordered), ROUNDS rounds
    of set_target_cell() and target_cell() on every cell (CELL_CACHE is filled and read under
    @utils.synchronized(cell.uuid)), scatter_gather_all_cells() and scatter_gather_cells()
    with a trivial function (in 26.2.2 these spawn eventlet greenthreads, which without
    monkey patching run on the calling native thread's own hub);
  - one "late" thread, sharing no lock, queue or join with the workers, that after --late
    seconds serves the same requests: only the cells' own locks order its CELL_CACHE reads.
--pin-locks keeps each cell's lockutils semaphore alive for the whole run (a diagnostic; see
docs/findings.md, nova.context.CELL_CACHE).

Untraced it runs in about a second and exits 0; it exits 1 if nova misbehaves.

    /usr/bin/python3.11 tests/realworld/nova_driver.py [--threads N] [--rounds N] [--late S]
                                                       [--pin-locks]
"""

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

# Before anything from nova is imported: nova.monkey_patch reads it at import time.
os.environ["OS_NOVA_DISABLE_EVENTLET_PATCHING"] = "1"

from oslo_concurrency import lockutils  # noqa: E402
import oslo_messaging  # noqa: E402

import nova.conf  # noqa: E402
from nova import context as nova_context  # noqa: E402
from nova.db.api import api as api_db_api  # noqa: E402
from nova.db.api import models as api_models  # noqa: E402
from nova.db.main import api as main_db_api  # noqa: E402
from nova.db.main import models as main_models  # noqa: E402
from nova import objects  # noqa: E402

CONF = nova.conf.CONF

CELL_NAMES = ("cell0", "cell1", "cell2")


def configure(workdir):
    """Parses an empty command line and points both databases at sqlite files in workdir."""
    CONF([], project="nova", default_config_files=[], default_config_dirs=[])
    api_url = "sqlite:///%s" % os.path.join(workdir, "api.sqlite")
    main_url = "sqlite:///%s" % os.path.join(workdir, "main.sqlite")
    CONF.set_override("connection", api_url, group="api_database")
    CONF.set_override("connection", main_url, group="database")
    # Parsing a URL registers oslo.messaging's [DEFAULT] transport options without creating a
    # transport; CellMapping reads CONF.transport_url. 'none:///' is what nova itself uses for
    # cells without a message queue: set_target_cell then skips rpc.create_transport().
    oslo_messaging.TransportURL.parse(CONF, "none:///")
    CONF.set_override("transport_url", "none:///")
    api_db_api.configure(CONF)
    main_db_api.configure(CONF)
    objects.register_all()


def create_schema_and_cells(workdir):
    """Creates the API schema and one CellMapping (with its own cell database) per cell."""
    api_models.BASE.metadata.create_all(api_db_api.get_engine())
    ctx = nova_context.get_admin_context()
    uuids = []
    for name in CELL_NAMES:
        url = "sqlite:///%s" % os.path.join(workdir, "%s.sqlite" % name)
        cell_ctxt = main_db_api.create_context_manager(url)
        main_models.BASE.metadata.create_all(cell_ctxt.writer.get_engine())
        uuid = (objects.CellMapping.CELL0_UUID if name == "cell0"
                else "%08x-0000-4000-8000-%012x" % (len(uuids), len(uuids)))
        objects.CellMapping(ctx, uuid=uuid, name=name, transport_url="none:///",
                            database_connection=url).create()
        uuids.append(uuid)
    return uuids


def trivial(cctxt, tag):
    """What each cell computes in scatter-gather: which cell the context targets."""
    return (tag, cctxt.cell_uuid)


def exercise(index, rounds, cells, uuids):
    """One API worker's requests after start-up: target every cell, then scatter-gather."""
    ctx = nova_context.get_admin_context()
    for r in range(rounds):
        for cell in cells:
            cctxt = nova_context.get_admin_context()
            nova_context.set_target_cell(cctxt, cell)
            if cctxt.cell_uuid != cell.uuid or cctxt.db_connection is None:
                raise AssertionError("set_target_cell did not target %s" % cell.uuid)
            with nova_context.target_cell(ctx, cell) as tctxt:
                if tctxt.cell_uuid != cell.uuid:
                    raise AssertionError("target_cell did not target %s" % cell.uuid)
        results = nova_context.scatter_gather_all_cells(ctx, trivial, (index, r))
        if results != {u: ((index, r), u) for u in uuids}:
            raise AssertionError("scatter_gather_all_cells returned %r" % (results,))
        some = [c for c in cells if not c.is_cell0()]
        results = nova_context.scatter_gather_cells(ctx, some, 30, trivial, (index, r))
        if results != {c.uuid: ((index, r), c.uuid) for c in some}:
            raise AssertionError("scatter_gather_cells returned %r" % (results,))


def worker(index, start, ready, rounds, uuids, errors):
    try:
        start.wait()
        # The check-then-rebind under test: CELLS is empty and every thread is released at
        # once, straight into load_cells(), then into scatter_gather_all_cells(), which calls
        # load_cells() again and reads CELLS (nova/context.py:542-543), as a first
        # "list servers" request on each API thread would.
        nova_context.load_cells()
        ctx = nova_context.get_admin_context()
        results = nova_context.scatter_gather_all_cells(ctx, trivial, index)
        if sorted(results) != sorted(uuids):
            raise AssertionError("first scatter_gather_all_cells returned %r" % (results,))
        # From here on CELLS is only read; the barrier orders every rebind above before the
        # read below, so this read is not itself part of a race.
        ready.wait()
        cells = list(nova_context.CELLS)
        if sorted(c.uuid for c in cells) != sorted(uuids):
            raise AssertionError("load_cells found %r" % [c.uuid for c in cells])
        exercise(index, rounds, cells, uuids)
    except BaseException as exc:  # reported by main
        errors.append("thread %d: %s: %s" % (index, type(exc).__name__, exc))
        start.abort()
        ready.abort()


def late_worker(index, delay, rounds, uuids, errors):
    """A request served later by a thread that shares no lock, queue or join with the others:
    only the cells' own @synchronized(uuid) locks order its CELL_CACHE reads after their fill.
    It finds the cells itself, as a thread that never called load_cells() would."""
    try:
        time.sleep(delay)
        ctx = nova_context.get_admin_context()
        cells = list(objects.CellMappingList.get_all(ctx))
        exercise(index, rounds, cells, uuids)
    except BaseException as exc:
        errors.append("late thread %d: %s: %s" % (index, type(exc).__name__, exc))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--late", type=float, default=0.5, metavar="SECONDS",
                        help="when the late thread starts its requests (default 0.5)")
    parser.add_argument("--pin-locks", action="store_true",
                        help="keep a reference to each cell's lockutils semaphore for the whole "
                             "run, so that its weak-value registry never drops and recreates it "
                             "(diagnostic: see docs/findings.md)")
    args = parser.parse_args()

    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="pyrace-nova-")
    try:
        configure(workdir)
        uuids = create_schema_and_cells(workdir)
        # load_cells() must find CELLS empty in every thread that gets there first.
        nova_context.CELLS = []
        nova_context.CELL_CACHE.clear()
        pinned = [lockutils.internal_lock(u) for u in uuids] if args.pin_locks else []
        start = threading.Barrier(args.threads)
        ready = threading.Barrier(args.threads)
        errors = []
        threads = [threading.Thread(target=worker, name="api-worker-%d" % i,
                                    args=(i, start, ready, args.rounds, uuids, errors))
                   for i in range(args.threads)]
        threads.append(threading.Thread(target=late_worker, name="api-late",
                                        args=(args.threads, args.late, 1, uuids, errors)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            for e in errors:
                print("nova_driver: %s" % e, file=sys.stderr)
            return 1
        if sorted(nova_context.CELL_CACHE) != sorted(uuids):
            print("nova_driver: CELL_CACHE holds %r" % sorted(nova_context.CELL_CACHE),
                  file=sys.stderr)
            return 1
        del pinned
        print("nova_driver: %d threads x %d rounds and a late thread over %d cells in %.2f s"
              % (args.threads, args.rounds, len(uuids), time.monotonic() - started))
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
