"""Analyzer benchmark: a synthetic trace of many events (bench/gen_trace.c: 32 threads, 64 locks,
200 module-global dicts of 1000 keys, stacks of 8 frames from 256 call sites), analysed by
`pyrace analyze` on one core. Prints events per second (of wall time, and of the CPU time the
analysis used: on a machine shared with other jobs the wall time includes waiting for the core),
peak memory and bytes per event on disk.

Usage (from the repository root, after `make bench` built .output/bench/gen_trace):
    python3 bench/analyzer.py [--events N] [--keep FILE]"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, ".output", "bench", "gen_trace")
PYRACE = os.path.join(ROOT, "pyrace")


def peak_rss_kib(stderr):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    return int(m.group(1)) if m else None


def cpu_seconds(stderr):
    times = [float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", stderr)]
    return sum(times) if len(times) == 2 else None


def analyse(trace):
    """Runs pyrace analyze on CPU 0 under GNU time; returns (seconds, CPU seconds, peak KiB)."""
    out = trace + ".json"
    started = time.monotonic()
    proc = subprocess.run(["taskset", "-c", "0", "/usr/bin/time", "-v", PYRACE, "analyze",
                           "--json", out, trace], capture_output=True, text=True)
    seconds = time.monotonic() - started
    if proc.returncode not in (0, 66):
        sys.exit("pyrace analyze failed (%d):\n%s" % (proc.returncode, proc.stderr[-2000:]))
    os.unlink(out)
    return seconds, cpu_seconds(proc.stderr), peak_rss_kib(proc.stderr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--keep", metavar="FILE", help="keep the generated trace as FILE")
    args = parser.parse_args()
    if not os.access(GEN, os.X_OK) or not os.path.exists("/usr/bin/time"):
        sys.exit("needs %s (make bench) and /usr/bin/time (apt-get install time)" % GEN)
    work = tempfile.mkdtemp(prefix="pyrace-analyzer-", dir="/var/tmp")
    trace = args.keep or os.path.join(work, "synthetic.trace")
    try:
        rows = []
        # a tenth of the events first: memory must not grow with the number of events
        for n in (args.events // 10, args.events):
            started = time.monotonic()
            subprocess.run([GEN, trace, str(n)], check=True, capture_output=True)
            generated = time.monotonic() - started
            size = os.path.getsize(trace)
            seconds, cpu, peak = analyse(trace)
            rows.append((n, size, generated, seconds, cpu, peak))
        print("analyzer benchmark (pyrace analyze on one core, %s)" % os.uname().release)
        print("%12s %10s %12s %10s %14s %10s %14s %12s" % (
            "events", "trace", "bytes/event", "analyse", "events/s", "cpu", "events/cpu-s",
            "peak memory"))
        for n, size, generated, seconds, cpu, peak in rows:
            print("%12d %8.2f GB %12.1f %8.1f s %14.0f %8.1f s %14.0f %9.1f MiB" % (
                n, size / 1e9, size / n, seconds, n / seconds, cpu or 0,
                n / cpu if cpu else 0, (peak or 0) / 1024))
    finally:
        if not args.keep and os.path.exists(trace):
            os.unlink(trace)
        os.rmdir(work) if os.path.isdir(work) and not os.listdir(work) else None
    return 0


if __name__ == "__main__":
    sys.exit(main())
