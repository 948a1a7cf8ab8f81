# corpus: nova-like cell cache: load_cells() rebinds CELLS without a lock (race); CELL_CACHE is filled only under per-uuid locks (no race)
# expect: __main__.CELLS
#
# A miniature of OpenStack Nova's nova/context.py, the module every Nova API
# request goes through to reach the cells (each cell is its own database and
# message queue):
#
#   CELL_CACHE             cell uuid -> connections to that cell, shared by every
#                          request and filled by set_target_cell() while holding
#                          a lock named after the cell's uuid (oslo.concurrency's
#                          lockutils.synchronized(uuid)).  Correct.
#   CELLS                  the cell mappings from the API database, loaded once
#                          by load_cells():  "if not CELLS: CELLS = query()"
#                          with no lock.  Several concurrent requests all see the
#                          empty list, all run the query and all rebind CELLS.
#                          Nothing orders those rebindings: a data race.
#   scatter_gather_cells() runs a function in every cell on a thread pool and
#                          collects the answers, giving up on cells that do not
#                          answer in time (Nova's CellTimeout).
#
# Run it under pyrace (as root):
#   ./pyrace run -- /usr/bin/python3.11 examples/cell_cache.py
# Expected report: one race, on __main__.CELLS, between two requests' rebinding
# in load_cells().  No race on CELL_CACHE: every access to it holds that
# cell's lock.

import contextlib
import functools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeoutError
from concurrent.futures import as_completed

CELL_TIMEOUT = 0.2  # seconds to wait for the cells' answers (Nova: CONF.cell_timeout)

CELL_CACHE = {}  # cell uuid -> CellConnection, guarded by the per-uuid locks
CELLS = []  # every CellMapping, loaded lazily by load_cells()  <- the race

# Markers put in the results of scatter_gather_cells(), like Nova's sentinels.
DID_NOT_RESPOND = "did not respond"

# The pool that runs the per-cell work of every request (Nova: a green pool).
EXECUTOR = ThreadPoolExecutor(max_workers=16, thread_name_prefix="cell-worker")


# --- a fake API database and fake cell databases ---------------------------


class CellMapping:
    """One row of the API database's cell_mappings table."""

    def __init__(self, uuid, name, database_connection, transport_url):
        self.uuid = uuid
        self.name = name
        self.database_connection = database_connection
        self.transport_url = transport_url


API_DATABASE = (
    CellMapping("00000000-0000-0000-0000-000000000000", "cell0", "mysql://db0/nova_cell0", "none:///"),
    CellMapping("7b0f6b1c-3c4e-4b5e-9f61-2f1a1c0d9a01", "cell1", "mysql://db1/nova", "rabbit://mq1"),
    CellMapping("c2e5d2a9-8d1b-4e7f-a3c6-5b9e0f4d7c02", "cell2", "mysql://db2/nova", "rabbit://mq2"),
)

# What each cell database holds, and how slowly it answers.  Only read.
CELL_DATABASES = {
    "mysql://db0/nova_cell0": {"instances": ["vm-failed-to-schedule"], "latency": 0.01},
    "mysql://db1/nova": {"instances": ["web-1", "web-2", "db-1"], "latency": 0.02},
    "mysql://db2/nova": {"instances": ["batch-1"], "latency": 0.4},  # overloaded cell
}


def query_cell_mappings():
    """SELECT * FROM cell_mappings: a round trip to the API database."""
    time.sleep(0.05)
    return list(API_DATABASE)


class CellConnection:
    """A database engine plus a message-queue transport for one cell."""

    def __init__(self, cell_mapping):
        time.sleep(0.01)  # opening connections is slow, hence the cache
        self.database = CELL_DATABASES[cell_mapping.database_connection]
        self.transport_url = cell_mapping.transport_url

    def list_instances(self):
        time.sleep(self.database["latency"])
        return list(self.database["instances"])


# --- a lock per name, like oslo.concurrency's lockutils.synchronized(name) ---

_LOCKS = {}  # lock name -> threading.Lock
_LOCKS_GUARD = threading.Lock()  # protects _LOCKS itself


def get_lock(name):
    with _LOCKS_GUARD:
        lock = _LOCKS.get(name)
        if lock is None:
            lock = threading.Lock()
            _LOCKS[name] = lock
        return lock


def synchronized(name):
    """Decorator: run the function while holding the lock called `name`."""

    def decorator(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            with get_lock(name):
                return fn(*args, **kwargs)

        return inner

    return decorator


# --- nova/context.py ---------------------------------------------------------


class RequestContext:
    """Per-request state; targeting a cell fills in its connection."""

    def __init__(self, request_id):
        self.request_id = request_id
        self.cell_uuid = None
        self.connection = None

    def copy(self):
        other = RequestContext(self.request_id)
        other.cell_uuid = self.cell_uuid
        other.connection = self.connection
        return other


def set_target_cell(context, cell_mapping):
    """Point `context` at a cell, reusing the cell's cached connection."""

    # Synchronize access to the cache by concurrent requests: one lock per cell,
    # so opening cell1's connection does not hold up requests for cell2.
    @synchronized(cell_mapping.uuid)
    def get_or_set_cached_cell_and_set_connections():
        try:
            connection = CELL_CACHE[cell_mapping.uuid]
        except KeyError:
            connection = CellConnection(cell_mapping)
            CELL_CACHE[cell_mapping.uuid] = connection
        context.connection = connection
        context.cell_uuid = cell_mapping.uuid

    get_or_set_cached_cell_and_set_connections()


@contextlib.contextmanager
def target_cell(context, cell_mapping):
    """Yield a copy of `context` targeted at `cell_mapping`."""
    cctxt = context.copy()
    set_target_cell(cctxt, cell_mapping)
    yield cctxt


def load_cells():
    """Load the cell mappings once per process.  Returns True if this call ran the query."""
    global CELLS
    loaded = False
    if not CELLS:
        # BUG: check-then-act with no lock.  Every request that arrives while
        # the query is running also finds CELLS empty, runs the query again and
        # rebinds CELLS; pyrace reports the unordered rebindings.
        CELLS = query_cell_mappings()
        loaded = True
    if not CELLS:
        raise RuntimeError("No cells are configured, unable to continue")
    return loaded


def gather_result(cell_uuid, fn, cctxt, *args):
    try:
        return fn(cctxt, *args)
    except Exception as exc:  # a broken cell must not break the whole request
        return exc


def scatter_gather_cells(context, cell_mappings, timeout, fn, *args):
    """Run fn(cell_context, *args) in every cell; return {cell uuid: result}.

    Cells that have not answered within `timeout` seconds get DID_NOT_RESPOND.
    """
    futures = {}
    for cell_mapping in cell_mappings:
        with target_cell(context, cell_mapping) as cctxt:
            future = EXECUTOR.submit(gather_result, cell_mapping.uuid, fn, cctxt, *args)
            futures[future] = cell_mapping.uuid

    results = {}
    try:
        for future in as_completed(futures, timeout=timeout):
            results[futures[future]] = future.result()
    except FuturesTimeoutError:
        pass  # Nova raises and swallows CellTimeout here
    for future, cell_uuid in futures.items():
        if cell_uuid not in results:
            future.cancel()
            results[cell_uuid] = DID_NOT_RESPOND
    return results


# --- a tiny API service ------------------------------------------------------


def list_instances(cctxt):
    return cctxt.connection.list_instances()


def handle_list_servers(request_id):
    """GET /servers: ask every cell for its instances."""
    loaded = load_cells()
    context = RequestContext(request_id)
    results = scatter_gather_cells(context, CELLS, CELL_TIMEOUT, list_instances)
    return loaded, results


def main():
    n_requests = 4
    responses = [None] * n_requests

    def serve(index):
        responses[index] = handle_list_servers("req-%d" % index)

    # Several API requests arrive at the same moment, each on its own thread.
    threads = [threading.Thread(target=serve, args=(i,), name="api-%d" % i) for i in range(n_requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    EXECUTOR.shutdown(wait=True)

    names = {m.uuid: m.name for m in API_DATABASE}
    for index, (loaded, results) in enumerate(responses):
        parts = []
        for cell_uuid, result in results.items():
            if result is DID_NOT_RESPOND or isinstance(result, Exception):
                parts.append("%s: %s" % (names[cell_uuid], result))
            else:
                parts.append("%s: %d instances" % (names[cell_uuid], len(result)))
        print("req-%d: %s" % (index, ", ".join(parts)))
    loads = sum(1 for loaded, _ in responses if loaded)
    print("cell mappings were loaded %d time(s) for %d requests (once was intended)" % (loads, n_requests))
    print("%d cell connections cached" % len(CELL_CACHE))


if __name__ == "__main__":
    main()
