"""A threaded HTTP service on loopback with a module-level cache filled without a lock.

Usage: python3 cache_service.py PORT_FILE
Binds 127.0.0.1 on a free port, writes the port to PORT_FILE, serves until killed.
GET /item/<key> fills RESPONSE_CACHE[<key>] on a miss (check-then-act, no lock): a real race
when two requests for the same key arrive together. GET /stats answers without touching it."""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESPONSE_CACHE = {}
STATS_LOCK = threading.Lock()
REQUESTS = {"count": 0}


def render(key):
    time.sleep(0.02)  # an expensive page: concurrent requests for one key overlap here
    return json.dumps({"key": key, "value": key.upper() * 3})


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/item/"):
            key = self.path[len("/item/"):]
            if key not in RESPONSE_CACHE:
                RESPONSE_CACHE[key] = render(key)
            body = RESPONSE_CACHE[key].encode()
        else:
            with STATS_LOCK:
                REQUESTS["count"] += 1
                body = json.dumps(REQUESTS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
