"""The service of the service benchmark: a threaded HTTP JSON API on loopback with a module-level
cache, a lock, and a thread pool, as small web services are written.

    python3 bench/service_app.py PORT    (prints "ready" once it listens)"""
import concurrent.futures
import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CACHE = {}             # item id -> rendered item, filled on first use
STATS = {"hits": 0, "misses": 0}
STATS_LOCK = threading.Lock()
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=4)


def render(item):
    digest = hashlib.sha256(("item-%d" % item).encode()).hexdigest()
    return {"id": item, "digest": digest, "tags": ["t%d" % (item % 7), "t%d" % (item % 11)]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall

    def do_GET(self):
        try:
            item = int(self.path.rsplit("/", 1)[-1]) % 500
        except ValueError:
            item = 0
        body = CACHE.get(item)
        with STATS_LOCK:
            STATS["hits" if body is not None else "misses"] += 1
        if body is None:
            body = json.dumps(POOL.submit(render, item).result()).encode()
            CACHE[item] = body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the load generator closes its connections when it stops


def main():
    server = Server(("127.0.0.1", int(sys.argv[1])), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
