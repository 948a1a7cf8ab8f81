"""pyrace benchmarks: traced / untraced ratios measured side by side in one run.

Usage (root, from the repository root, after `make`): python3 bench/run.py [--python PATH]
Prints one table: for each microbenchmark the untraced and traced ns/op and their ratio, and
the wall time of the demo (examples/cell_cache.py) untraced and under `pyrace run`."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_micro(python, traced, n, workdir):
    cmd = [python, os.path.join(ROOT, "bench", "dict_ops.py"), str(n)]
    stats = None
    if traced:
        out_json = os.path.join(workdir, "micro.json")
        cmd = [os.path.join(ROOT, "pyrace"), "run", "--json", out_json, "--"] + cmd
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if traced:
        with open(out_json) as f:
            stats = json.load(f)["stats"]
    values = {}
    for line in proc.stdout.splitlines():
        name, value = line.split()
        values[name] = float(value)
    return values, stats


def wall(cmd, repeat):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default="/usr/bin/python3.11")
    parser.add_argument("-n", type=int, default=200_000, help="iterations per microbenchmark")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        untraced, _ = run_micro(args.python, False, args.n, workdir)
        traced, stats = run_micro(args.python, True, args.n, workdir)
        demo = [args.python, os.path.join(ROOT, "examples", "cell_cache.py")]
        demo_untraced = wall(demo, args.repeat)
        demo_traced = wall([os.path.join(ROOT, "pyrace"), "run", "--"] + demo, args.repeat)
    print("pyrace benchmarks on %s (%s)" % (args.python, os.uname().release))
    print("%-22s %14s %14s %8s" % ("case", "untraced", "traced", "ratio"))
    for name, base in untraced.items():
        t = traced.get(name, float("nan"))
        ratio = t / base if base > 0 else float("nan")
        print("%-22s %11.1f ns %11.1f ns %7.1fx" % (name, base, t, ratio))
    print("%-22s %12.3f s %12.3f s %7.1fx" % ("demo (wall)", demo_untraced, demo_traced,
                                               demo_traced / demo_untraced))
    print("micro run under pyrace: %d events, %d lost" % (stats["events"], stats["lost_events"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
