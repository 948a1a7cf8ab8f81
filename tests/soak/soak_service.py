"""A service-like program under steady load, for the soak test (tests/soak/soak.py).

Usage: python3 soak_service.py PORT_FILE [JOBS_PER_SECOND]

A dispatcher thread submits jobs to a thread pool at a fixed rate until the process is killed.
Each job reads through CACHE (a module-level dict filled and evicted under CACHE_LOCK), opens a
session in SESSIONS (keys never repeat, expired by a janitor thread under SESSIONS_LOCK, so the
set of keys churns the way request ids do), and counts itself in STATS without a lock: that
counter is the one real race, so a healthy trace reports __main__.STATS and nothing else.
GET /health on 127.0.0.1 (port written to PORT_FILE) answers with the progress counters."""
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CACHE = {}
CACHE_LOCK = threading.Lock()
CACHE_MAX = 256
SESSIONS = {}
SESSIONS_LOCK = threading.Lock()
SESSION_TTL = 2.0
STATS = {"jobs": 0}  # racy on purpose
HEALTH = {"done": 0, "errors": 0, "evicted": 0, "expired": 0}
HEALTH_LOCK = threading.Lock()
STARTED = time.monotonic()


def compute(key):
    return sum(ord(c) for c in key) * 7


def lookup(key):
    with CACHE_LOCK:
        value = CACHE.get(key)
        if value is None:
            value = CACHE[key] = compute(key)
            if len(CACHE) > CACHE_MAX:
                # oldest first: dicts keep insertion order
                for old in list(CACHE)[: CACHE_MAX // 4]:
                    del CACHE[old]
                with HEALTH_LOCK:
                    HEALTH["evicted"] += CACHE_MAX // 4
    return value


def job(n):
    # first, before any lock: two workers' updates are then never ordered by one
    STATS["jobs"] = STATS["jobs"] + 1
    try:
        value = lookup("item-%d" % (n % 400))
        with SESSIONS_LOCK:
            SESSIONS["req-%d" % n] = (time.monotonic(), value)
        with HEALTH_LOCK:
            HEALTH["done"] += 1
    except Exception:
        with HEALTH_LOCK:
            HEALTH["errors"] += 1
        raise


def janitor():
    while True:
        time.sleep(0.5)
        now = time.monotonic()
        with SESSIONS_LOCK:
            old = [k for k, (t, _) in SESSIONS.items() if now - t > SESSION_TTL]
            for k in old:
                del SESSIONS[k]
        with HEALTH_LOCK:
            HEALTH["expired"] += len(old)


def dispatcher(pool, rate):
    n = 0
    period = 1.0 / rate
    next_at = time.monotonic()
    while True:
        pool.submit(job, n)
        n += 1
        next_at += period
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif delay < -1.0:
            next_at = time.monotonic()  # fell behind by a second: do not burst to catch up


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        with HEALTH_LOCK:
            state = dict(HEALTH)
        with SESSIONS_LOCK:
            state["sessions"] = len(SESSIONS)
        with CACHE_LOCK:
            state["cache"] = len(CACHE)
        state["uptime"] = time.monotonic() - STARTED
        body = json.dumps(state).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    rate = float(sys.argv[2]) if len(sys.argv) > 2 else 100.0
    pool = ThreadPoolExecutor(max_workers=8)
    threading.Thread(target=janitor, name="janitor", daemon=True).start()
    threading.Thread(target=dispatcher, args=(pool, rate), name="dispatcher", daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
