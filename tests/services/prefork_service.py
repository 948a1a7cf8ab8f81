"""A pre-forking HTTP service: a parent that starts worker processes with os.fork, each a
threaded HTTP server on loopback with a module-level cache filled without a lock.

Usage: python3 prefork_service.py STATE_DIR NWORKERS
Each worker writes its port to STATE_DIR/worker-<pid>.port. SIGUSR1 to the parent forks one
more worker; SIGTERM stops the parent and its workers. The parent fills RESPONSE_CACHE before
forking, so the workers inherit that dict at the same address, each its own copy.
GET /item/<key> fills RESPONSE_CACHE[<key>] on a miss (check-then-act, no lock); GET /pid
answers the worker's pid."""
import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESPONSE_CACHE = {"warm": "inherited from the parent"}


def render(key):
    time.sleep(0.02)  # concurrent requests for one key overlap here
    return json.dumps({"key": key, "pid": os.getpid()})


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/item/"):
            key = self.path[len("/item/"):]
            if key not in RESPONSE_CACHE:
                RESPONSE_CACHE[key] = render(key)
            body = RESPONSE_CACHE[key].encode()
        else:
            body = json.dumps({"pid": os.getpid()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def serve(state_dir):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    path = os.path.join(state_dir, "worker-%d.port" % os.getpid())
    with open(path + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(path + ".tmp", path)
    server.serve_forever()


def main():
    state_dir, nworkers = sys.argv[1], int(sys.argv[2])
    workers = []

    def spawn():
        pid = os.fork()
        if pid == 0:
            try:
                serve(state_dir)
            finally:
                os._exit(0)
        workers.append(pid)

    def stop(signum, frame):
        for pid in workers:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGUSR1, lambda signum, frame: spawn())
    signal.signal(signal.SIGTERM, stop)
    for _ in range(nworkers):
        spawn()
    with open(os.path.join(state_dir, "parent.ready"), "w") as f:
        f.write(str(os.getpid()))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
