"""Service benchmark: bench/service_app.py under a fixed load from wrk, untraced, then with
`pyrace attach` (default mode, then --no-reads) on the same running process. Prints
throughput and p99 latency of each and their ratios, and the events pyrace lost.

    python3 bench/service.py [--python PATH] [--seconds S] [--connections N]"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYRACE = os.path.join(ROOT, "pyrace")
# wrk spreads requests over 500 items (the service renders each once, then serves its cache)
LUA = 'counter = 0\nrequest = function()\n  counter = counter + 1\n  return wrk.format(nil, "/item/" .. (counter % 500))\nend\n'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wrk(port, seconds, connections, script):
    out = subprocess.run(["wrk", "-t", "1", "-c", str(connections), "-d", "%ds" % seconds,
                          "--latency", "-s", script, "http://127.0.0.1:%d/" % port],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, float(m.group(1)) * scale, int(errors.group(1)) if errors else 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default="/usr/bin/python3.11")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="pyrace-service-")
    script = os.path.join(work, "items.lua")
    with open(script, "w") as f:
        f.write(LUA)
    port = free_port()
    service = subprocess.Popen([args.python, os.path.join(ROOT, "bench", "service_app.py"),
                                str(port)], stdout=subprocess.PIPE, text=True)
    rows = []
    try:
        if service.stdout.readline().strip() != "ready":
            sys.exit("the service did not start")
        wrk(port, 2, args.connections, script)  # warm the cache and the interpreter
        rows.append(("untraced",) + wrk(port, args.seconds, args.connections, script) + (None,))
        for label, options in (("pyrace attach", []), ("attach --no-reads", ["--no-reads"])):
            out = os.path.join(work, "r.json")
            tracer = subprocess.Popen([PYRACE, "attach", "-p", str(service.pid), "--duration",
                                       str(args.seconds + 4), "--json", out] + options,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(2)  # attached (the walk of the live interpreter takes well under that)
            result = wrk(port, args.seconds, args.connections, script)
            tracer.send_signal(signal.SIGINT)
            tracer.communicate(timeout=120)
            with open(out) as f:
                stats = json.load(f)["stats"]
            rows.append((label,) + result + (stats,))
    finally:
        service.kill()
        service.wait()
    base_rps, base_p99 = rows[0][1], rows[0][2]
    print("service benchmark: %s, wrk 1 thread %d connections %d s, %s" % (
        os.path.basename(args.python), args.connections, args.seconds, os.uname().release))
    print("%-20s %12s %10s %10s %10s %12s %8s" % ("mode", "requests/s", "ratio", "p99 ms",
                                               "p99 ratio", "events", "lost"))
    for label, rps, p99, errors, stats in rows:
        print("%-20s %12.0f %9.2fx %10.2f %9.2fx %12s %8s" % (
            label, rps, rps / base_rps, p99, p99 / base_p99 if base_p99 else float("nan"),
            stats["events"] if stats else "-", stats["lost_events"] if stats else "-"))
        if errors:
            print("  (%d non-2xx responses)" % errors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
