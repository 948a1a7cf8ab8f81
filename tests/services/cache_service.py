"""A threaded HTTP service on loopback with a module-level cache filled without a lock.

Usage: python3 cache_service.py PORT_FILE
Binds 127.0.0.1 on a free port, writes the port to PORT_FILE, serves until killed.
GET /item/<key> fills RESPONSE_CACHE[<key>] on a miss (check-then-act, no lock): a real race
when two requests for the same key arrive together. GET /stats answers without touching it. GET /log/<key> appends to RECENT (a list, trimmed to
50) and adds <key> to SEEN_KEYS (a set) after checking it, both without a lock."""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESPONSE_CACHE = {}
STATS_LOCK = threading.Lock()
REQUESTS = {"count": 0}
RECENT = []
SEEN_KEYS = set()


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
        elif self.path.startswith("/log/"):
            key = self.path[len("/log/"):]
            RECENT.append(key)
            if len(RECENT) > 50:
                del RECENT[0]
            if key not in SEEN_KEYS:
                time.sleep(0.005)
                SEEN_KEYS.add(key)
            body = json.dumps({"recent": len(RECENT)}).encode()
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
