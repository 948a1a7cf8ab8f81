#!/usr/bin/env python3
"""Soak test: pyrace attached to a service under steady load for a long time (`make soak`).

    tests/soak/soak.py [--seconds S] [--interval S] [--rate JOBS_PER_S] [--keep]

Starts tests/soak/soak_service.py (a thread pool fed at a fixed rate, a module-level cache and a
session table under locks, one racy counter), attaches `pyrace attach -p PID --duration S` to
it, and every --interval seconds samples the tracer's memory (VmRSS, and its anonymous and
file-backed parts), the service's VmRSS, the size of the trace and the service's throughput.
After the detach it follows the analysis to its end (peak RSS from wait4) and checks:

- the tracer's memory is bounded while tracing: the largest VmRSS of the last third of the
  tracing samples exceeds that of the middle third by at most 5 % + 2 MiB. Everything pyrace
  holds while recording is bounded by design (a 16 MiB ring buffer whose pages are all touched
  within the first laps, the set of live code objects already resolved, a 1 MiB stdio buffer),
  so after the first third, which absorbs that warm-up, the curve must be flat: state kept per
  event or per key would grow in proportion to time and add as much to the last third as to
  the middle one. The margin absorbs malloc and page-cache noise of the reading thread. The
  slope over the last two thirds is printed too, in KiB/min and bytes per event;
- the analysis after the detach reads the trace once, in order, and does not keep it resident:
  for a trace over 64 MiB its peak RSS stays under half the trace's size (its own state is
  per variable, key, thread and lock, not per event);
- lost events are reported: stats.lost_events is in the JSON report, and the text summary
  names them; with none lost, the races are exactly __main__.STATS['jobs'];
- the service is still healthy: alive, answering /health, still completing jobs at a rate
  within half of the untraced one, with no job failed.

Prints a table of memory over time and the figures; exits 1 when a check fails.
SOAK_SECONDS in the environment sets the default duration (600).
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYRACE = os.path.join(ROOT, "pyrace")
SERVICE = os.path.join(ROOT, "tests", "soak", "soak_service.py")
SYSTEM_PYTHON = "/usr/bin/python3.11"
EXPECTED_RACES = {"__main__.STATS['jobs']"}
GROWTH_MARGIN = 0.05
GROWTH_SLACK_KIB = 2048
ANALYSIS_CHECK_MIN_TRACE = 64 << 20


def status_kib(pid):
    """VmRSS, RssAnon, RssFile and VmHWM of a process in KiB (None once it is gone)."""
    fields = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                    fields[key] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None
    return fields if "VmRSS" in fields else None


class Service:
    def __init__(self, work, rate):
        port_file = os.path.join(work, "port")
        self.proc = subprocess.Popen([SYSTEM_PYTHON, SERVICE, port_file, str(rate)],
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "service.err"), "w"))
        deadline = time.time() + 20
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise SystemExit("soak: the service did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())

    def health(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/health" % self.port, timeout=10) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def tracer_done(proc):
    """Reaps pyrace with wait4 (not Popen.poll) so as to get its rusage: the peak RSS of the
    whole run, analysis included, is ru_maxrss."""
    if getattr(proc, "reaped", None):
        return True
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid == 0:
        return False
    proc.reaped = (status, usage)
    return True


def mib(kib):
    return "%.1f" % (kib / 1024.0) if kib is not None else "-"


def slope(points):
    """Least-squares slope of (x, y) points, 0 with fewer than two."""
    if len(points) < 2:
        return 0.0
    n = float(len(points))
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def variable_name(v):
    base = "%s.%s" % (v.get("module"), v.get("name"))
    if v.get("container") == "global":
        return base
    if v.get("key") is None:
        return base + "[*]"
    return "%s['%s']" % (base, v["key"]) if v.get("key_type") == "str" else "%s[%s]" % (base, v["key"])


def main():
    parser = argparse.ArgumentParser(description="pyrace soak test")
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0, help="jobs per second (default 100)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (trace, report)")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("soak: must run as root (pyrace attaches eBPF uprobes)")
    if not os.access(PYRACE, os.X_OK):
        raise SystemExit("soak: build ./pyrace first (make)")

    work = tempfile.mkdtemp(prefix="pyrace-soak-")
    trace = os.path.join(work, "soak.trace")
    report_path = os.path.join(work, "report.json")
    svc = Service(work, args.rate)
    problems = []
    try:
        # the untraced rate, for comparison
        time.sleep(2)
        h0, t0 = svc.health(), time.monotonic()
        time.sleep(3)
        h1, t1 = svc.health(), time.monotonic()
        untraced_rate = (h1["done"] - h0["done"]) / (t1 - t0)

        err_path = os.path.join(work, "pyrace.err")
        err = open(err_path, "w")
        tracer = subprocess.Popen([PYRACE, "attach", "-p", str(svc.proc.pid), "--duration", str(args.seconds),
                                   "--json", report_path, "-o", trace],
                                  stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.time() + 60
        while True:
            with open(err_path) as f:
                if "attached to" in f.read():
                    break
            if time.time() > deadline or tracer_done(tracer):
                raise SystemExit("soak: pyrace did not attach:\n" + open(err_path).read())
            time.sleep(0.1)
        start = time.monotonic()
        print("soak: pyrace %d attached to service %d for %g s, %g jobs/s offered (untraced: %.1f jobs/s)"
              % (tracer.pid, svc.proc.pid, args.seconds, args.rate, untraced_rate), flush=True)
        print("%8s  %-8s  %9s  %9s  %9s  %10s  %9s  %8s" % (
            "t (s)", "phase", "rss MiB", "anon MiB", "file MiB", "target MiB", "trace MiB", "jobs/s"), flush=True)

        samples = []
        last_done, last_t = svc.health()["done"], time.monotonic()
        next_sample = start + args.interval
        peak_analysis = 0
        while not tracer_done(tracer):
            now = time.monotonic()
            tracing = now - start < args.seconds
            if not tracing:
                # the analysis: sample often, its peak is short
                st = status_kib(tracer.pid)
                if st:
                    peak_analysis = max(peak_analysis, st["VmRSS"])
                time.sleep(0.2)
                continue
            if now < next_sample:
                time.sleep(min(0.2, next_sample - now))
                continue
            next_sample += args.interval
            st = status_kib(tracer.pid)
            target = status_kib(svc.proc.pid)
            health = svc.health()
            size = os.path.getsize(trace) if os.path.exists(trace) else 0
            rate = None
            if health:
                rate = (health["done"] - last_done) / (now - last_t)
                last_done, last_t = health["done"], now
            if not st:
                continue
            row = {"t": now - start, "rss": st["VmRSS"], "anon": st.get("RssAnon"), "file": st.get("RssFile"),
                   "target": target["VmRSS"] if target else None, "trace": size, "rate": rate,
                   "health": health}
            samples.append(row)
            print("%8.0f  %-8s  %9s  %9s  %9s  %10s  %9.1f  %8s" % (
                row["t"], "tracing", mib(row["rss"]), mib(row["anon"]), mib(row["file"]), mib(row["target"]),
                size / 1048576.0, "%.1f" % rate if rate is not None else "-"), flush=True)
        status, usage = tracer.reaped
        tracer.returncode = os.waitstatus_to_exitcode(status)
        err.close()
        ended = time.monotonic()
        peak_kib = usage.ru_maxrss  # KiB on Linux
        trace_size = os.path.getsize(trace) if os.path.exists(trace) else 0
        print("%8.0f  %-8s  %9s  (peak of the analysis, sampled every 0.2 s)" % (
            ended - start, "analysis", mib(peak_analysis)))
        with open(err_path) as f:
            stderr = f.read()

        # --- the tracer's memory -----------------------------------------------------------
        n = len(samples)
        if n < 6:
            problems.append("only %d samples: run for at least 6 intervals" % n)
        else:
            third = n // 3
            middle = samples[third:2 * third]
            last = samples[2 * third:]
            mid_max = max(s["rss"] for s in middle)
            last_max = max(s["rss"] for s in last)
            allowed = mid_max * GROWTH_MARGIN + GROWTH_SLACK_KIB
            growth = last_max - mid_max
            pts = [(s["t"] / 60.0, s["rss"]) for s in samples[third:]]
            kib_per_min = slope(pts)
            print("tracer memory while tracing: first sample %s MiB, middle third max %s MiB, last third max %s MiB, "
                  "growth %+d KiB (allowed %d KiB); slope over the last two thirds %+.1f KiB/min"
                  % (mib(samples[0]["rss"]), mib(mid_max), mib(last_max), growth, allowed, kib_per_min))
            if growth > allowed:
                problems.append("tracer memory grows: last third max %d KiB vs middle third max %d KiB (+%d KiB, "
                                "allowed %d)" % (last_max, mid_max, growth, allowed))
        print("tracer peak RSS (wait4, analysis included): %s MiB; trace file %.1f MiB" % (
            mib(peak_kib), trace_size / 1048576.0))
        if trace_size > ANALYSIS_CHECK_MIN_TRACE and peak_kib * 1024 > trace_size / 2:
            problems.append("the analysis peaks at %s MiB for a %.1f MiB trace: it keeps the trace resident"
                            % (mib(peak_kib), trace_size / 1048576.0))

        # --- the report ----------------------------------------------------------------------
        if tracer.returncode != 66:
            problems.append("pyrace exit status %s, expected 66\n%s" % (tracer.returncode, stderr[-2000:]))
        try:
            with open(report_path) as f:
                report = json.load(f)
        except (OSError, ValueError) as exc:
            report = None
            problems.append("no usable JSON report: %s" % exc)
        if report:
            stats = report.get("stats", {})
            events = stats.get("events", 0)
            lost = stats.get("lost_events")
            print("events %s, lost %s, threads %s, duration %.1f s, %.0f events/s, %.1f trace bytes/event"
                  % (events, lost, stats.get("threads"), stats.get("duration_s", 0),
                     events / max(stats.get("duration_s", 1), 1e-9), trace_size / max(events, 1)))
            if n >= 6 and events:
                per_event = kib_per_min * 1024 / (events / max(stats.get("duration_s", 1), 1e-9) * 60)
                print("memory slope per event: %+.3f bytes" % per_event)
            if lost is None:
                problems.append("stats.lost_events missing from the JSON report")
            elif "lost events" not in stderr:
                problems.append("the text summary does not mention lost events")
            names = {variable_name(r["variable"]) for r in report.get("races", [])}
            print("races: %s" % (", ".join(sorted(names)) or "(none)"))
            if lost == 0 and names != EXPECTED_RACES:
                problems.append("races %s, expected %s" % (sorted(names), sorted(EXPECTED_RACES)))
            elif lost:
                print("note: %d events lost; the races are not checked exactly" % lost)

        # --- the service ---------------------------------------------------------------------
        if svc.proc.poll() is not None:
            problems.append("the service died (status %s)" % svc.proc.returncode)
        else:
            a = svc.health()
            time.sleep(3)
            b = svc.health()
            if not a or not b:
                problems.append("the service does not answer /health after the detach")
            else:
                after = (b["done"] - a["done"]) / 3.0
                print("service after the detach: %.1f jobs/s (untraced before: %.1f), %d errors, %d sessions, "
                      "%d cached, RSS %s MiB" % (after, untraced_rate, b["errors"], b["sessions"], b["cache"],
                                                 mib((status_kib(svc.proc.pid) or {}).get("VmRSS"))))
                if b["errors"]:
                    problems.append("%d jobs failed in the service" % b["errors"])
                if after < untraced_rate / 2:
                    problems.append("the service completes %.1f jobs/s after the detach, %.1f before"
                                    % (after, untraced_rate))
            rates = [s["rate"] for s in samples if s["rate"] is not None]
            if rates:
                low = min(rates)
                print("service while traced: %.1f jobs/s on average, %.1f at worst" % (sum(rates) / len(rates), low))
                if low < untraced_rate / 2:
                    problems.append("the service slowed to %.1f jobs/s while traced" % low)
    finally:
        svc.stop()
        if args.keep:
            print("soak: work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print("FAIL: %s" % p)
    print("soak: %s" % ("FAILED" if problems else "passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
