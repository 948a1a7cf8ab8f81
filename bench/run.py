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


FLOOR = os.path.join(ROOT, ".output", "bench", "uprobe_floor")


def run_micro(python, traced, n, workdir, floor=False, options=()):
    cmd = [python, os.path.join(ROOT, "bench", "dict_ops.py"), str(n)]
    stats = None
    if floor:
        cmd = [FLOOR, "--"] + cmd
    if traced:
        out_json = os.path.join(workdir, "micro.json")
        cmd = [os.path.join(ROOT, "pyrace"), "run"] + list(options) + ["--json", out_json, "--"] + cmd
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
        no_reads, _ = run_micro(args.python, True, args.n, workdir, options=["--no-reads"])
        global_reads, _ = run_micro(args.python, True, args.n, workdir, options=["--global-reads"])
        floor = {}
        if os.access(FLOOR, os.X_OK):
            floor, _ = run_micro(args.python, False, args.n, workdir, floor=True)
        else:
            print("(no %s: build it with make bench for the floor column)" % FLOOR)
        demo = [args.python, os.path.join(ROOT, "examples", "cell_cache.py")]
        demo_untraced = wall(demo, args.repeat)
        demo_traced = wall([os.path.join(ROOT, "pyrace"), "run", "--"] + demo, args.repeat)
        demo_no_reads = wall([os.path.join(ROOT, "pyrace"), "run", "--no-reads", "--"] + demo,
                             args.repeat)
        demo_global_reads = wall([os.path.join(ROOT, "pyrace"), "run", "--global-reads", "--"] + demo,
                                 args.repeat)
    print("pyrace benchmarks on %s (%s)" % (args.python, os.uname().release))
    print("floor: an empty BPF program on the same probe points (bench/floor.bpf.c)")
    print("no-reads: pyrace run --no-reads (writes and synchronisation only)")
    print("global-reads: pyrace run --global-reads (the target runs unspecialised)")
    print("%-18s %12s %12s %12s %9s %9s %12s %9s %12s %9s" % (
        "case", "untraced", "floor", "pyrace", "/untraced", "/floor", "no-reads", "/untraced",
        "global-reads", "/untraced"))
    nan = float("nan")
    for name, base in untraced.items():
        t = traced.get(name, nan)
        f = floor.get(name, nan)
        r = no_reads.get(name, nan)
        g = global_reads.get(name, nan)
        print("%-18s %9.1f ns %9.1f ns %9.1f ns %8.1fx %8.2fx %9.1f ns %8.1fx %9.1f ns %8.1fx" % (
            name, base, f, t, t / base if base > 0 else nan, t / f if f > 0 else nan,
            r, r / base if base > 0 else nan, g, g / base if base > 0 else nan))
    print("%-18s %10.3f s %12s %10.3f s %8.1fx %22s %8.1fx %22s %8.1fx" % (
        "demo (wall)", demo_untraced, "", demo_traced, demo_traced / demo_untraced, "",
        demo_no_reads / demo_untraced, "", demo_global_reads / demo_untraced))
    print("micro run under pyrace: %d events, %d lost" % (stats["events"], stats["lost_events"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
