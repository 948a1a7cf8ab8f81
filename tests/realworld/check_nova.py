#!/usr/bin/env python3
"""pyrace on real code: OpenStack Nova's cell cache (Debian's python3-nova 26.2.2).

Runs tests/realworld/nova_driver.py untraced, then under `pyrace run` (keeping the trace), and
checks:
  - the driver exits 0 untraced, and pyrace exits 66 with no lost events;
  - nova.context.CELLS is reported, with the innermost frame of both accesses in
    .../nova/context.py, the write in load_cells;
  - no race is reported on nova.context.CELL_CACHE (every key is written and read under its
    own @utils.synchronized(uuid) semaphore);
  - every other reported variable is one that docs/findings.md examines;
  - `pyrace analyze --suppressions suppressions/default.supp` on the same trace leaves only
    races whose finding is not suppressed by design (real races, and false positives that
    are to be fixed in pyrace rather than hidden).

Prints one `ok NAME` or `FAIL NAME` line per check (details indented below a failure), the
timings, and finally `N passed, N failed`; exits 1 if anything failed. Run from anywhere, as
root (pyrace needs it), after `apt-get install python3-nova`.

    tests/realworld/check_nova.py [--pyrace PATH] [--keep DIR] [-- DRIVER ARGS...]
"""

import argparse
import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DRIVER = os.path.join("tests", "realworld", "nova_driver.py")
FINDINGS = os.path.join("docs", "findings.md")
SUPPRESSIONS = os.path.join("suppressions", "default.supp")
PYTHON = "/usr/bin/python3.11"
NOVA_CONTEXT = "/nova/context.py"
EXIT_RACES = 66
UNTRACED_TIMEOUT = 120
TRACED_TIMEOUT = 300
STDERR_LINES_SHOWN = 40


class Result:
    def __init__(self, cmd, returncode, stdout, stderr, timed_out, seconds):
        self.cmd = cmd
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out
        self.seconds = seconds


def run(cmd, timeout):
    """Runs cmd in ROOT; on timeout kills its whole process group."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True,
                                universal_newlines=True, errors="replace")
    except OSError as exc:
        return Result(cmd, None, "", "cannot execute %s: %s" % (cmd[0], exc), False, 0.0)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        timed_out = True
    return Result(cmd, proc.returncode, out, err, timed_out, time.monotonic() - started)


def describe(result):
    lines = ["command: %s" % " ".join(shlex.quote(c) for c in result.cmd)]
    if result.timed_out:
        lines.append("timed out (killed)")
    else:
        lines.append("exit status: %s" % result.returncode)
    err = result.stderr.rstrip("\n").split("\n") if result.stderr.strip() else []
    if len(err) > STDERR_LINES_SHOWN:
        lines.append("stderr (last %d lines):" % STDERR_LINES_SHOWN)
        err = err[-STDERR_LINES_SHOWN:]
    elif err:
        lines.append("stderr:")
    lines.extend("  | " + line for line in err)
    return lines


# --- reading reports and findings -------------------------------------------------------


def base_name(race):
    """module.NAME of a race's variable (the dict key, if any, left out)."""
    v = race["variable"]
    return "%s.%s" % (v["module"], v["name"])


def full_name(race):
    v = race["variable"]
    name = base_name(race)
    if v.get("container") != "dict":
        return name
    if v.get("key") is None:
        return name + "[*]"
    return name + ("['%s']" % v["key"] if v.get("key_type") == "str" else "[%s]" % v["key"])


def innermost(access):
    stack = access.get("stack") or []
    return stack[0] if stack else {"file": "?", "line": 0, "function": "?"}


def where(access):
    f = innermost(access)
    return "%s %s:%s in %s" % (access.get("op"), f.get("file"), f.get("line"), f.get("function"))


def load_findings(path):
    """[(variable globs, verdict line)] from the `- Variables:` / `- Verdict:` lines of each
    `###` section of docs/findings.md."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return []
    findings = []
    for section in re.split(r"^### ", text, flags=re.M)[1:]:
        variables = re.search(r"^- Variables?: (.*)$", section, flags=re.M)
        verdict = re.search(r"^- Verdict: (.*)$", section, flags=re.M)
        if variables and verdict:
            findings.append((re.findall(r"`([^`]+)`", variables.group(1)), verdict.group(1)))
    return findings


def finding_of(name, findings):
    for globs, verdict in findings:
        if any(fnmatch.fnmatchcase(name, g) for g in globs):
            return verdict
    return None


# --- the checks ---------------------------------------------------------------------------


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, problems):
        if problems:
            self.failed += 1
            print("FAIL %s" % name)
            for line in problems:
                print("       %s" % line)
        else:
            self.passed += 1
            print("ok   %s" % name)
        sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pyrace", default=os.path.join(ROOT, "pyrace"),
                        help="the pyrace binary (default ./pyrace)")
    parser.add_argument("--keep", metavar="DIR",
                        help="write the JSON reports (and the trace) into DIR and keep them")
    parser.add_argument("driver_args", nargs="*",
                        help="extra arguments for nova_driver.py (after --)")
    args = parser.parse_args()

    checks = Checks()
    timings = []
    work = args.keep or tempfile.mkdtemp(prefix="pyrace-check-nova-")
    os.makedirs(work, exist_ok=True)
    try:
        # 0. prerequisites
        probe = run([PYTHON, "-c", "import nova.context, sys; print(nova.context.__file__)"],
                    UNTRACED_TIMEOUT)
        problems = []
        if probe.returncode != 0:
            problems = ["%s cannot import nova.context: install python3-nova "
                        "(apt-get install --no-install-recommends python3-nova)" % PYTHON]
            problems += describe(probe)
        elif not os.access(args.pyrace, os.X_OK):
            problems = ["%s is missing or not executable: build it with make" % args.pyrace]
        checks.check("python3-nova is installed and ./pyrace is built", problems)
        if problems:
            print("%d passed, %d failed" % (checks.passed, checks.failed + 5))
            return 1
        print("     nova.context is %s" % probe.stdout.strip())

        # 1. untraced
        driver = [PYTHON, DRIVER] + args.driver_args
        plain = run(driver, UNTRACED_TIMEOUT)
        timings.append(("driver untraced", plain.seconds))
        problems = [] if plain.returncode == 0 and not plain.timed_out else describe(plain)
        checks.check("nova_driver.py exits 0 untraced", problems)

        # 2. traced
        trace = os.path.join(work, "nova.trace")
        full_json = os.path.join(work, "nova.json")
        supp_json = os.path.join(work, "nova.suppressed.json")
        traced = run([args.pyrace, "run", "-o", trace, "--json", full_json, "--"] + driver,
                     TRACED_TIMEOUT)
        timings.append(("pyrace run (driver traced, trace kept)", traced.seconds))
        report = None
        problems = []
        if traced.timed_out or traced.returncode != EXIT_RACES:
            problems.append("expected exit status %d" % EXIT_RACES)
        try:
            with open(full_json, encoding="utf-8") as f:
                report = json.load(f)
        except (OSError, ValueError) as exc:
            problems.append("no usable JSON report %s: %s" % (full_json, exc))
        if report is not None and report.get("stats", {}).get("lost_events") != 0:
            problems.append("stats.lost_events = %r, expected 0"
                            % report.get("stats", {}).get("lost_events"))
        checks.check("pyrace run on the driver exits 66 with no lost events",
                     problems + (describe(traced) if problems else []))
        races = report["races"] if report is not None else []
        if report is not None:
            stats = report["stats"]
            print("     %d races; %d events, %d threads, %.1f s traced, %s truncated stacks, "
                  "%s unresolved frames" % (len(races), stats["events"], stats["threads"],
                                            stats["duration_s"], stats.get("truncated_stacks"),
                                            stats.get("unresolved_frames")))

        # 3. CELLS
        cells = [r for r in races if base_name(r) == "nova.context.CELLS"]
        problems = [] if cells else ["no race reported on nova.context.CELLS"]
        for r in cells:
            for side in ("current", "previous"):
                f = innermost(r[side])
                if not str(f.get("file", "")).endswith(NOVA_CONTEXT):
                    problems.append("%s: %s side innermost frame %s is not in ...%s"
                                    % (r["id"], side, where(r[side]), NOVA_CONTEXT))
        if cells and not any(innermost(r[s]).get("function") == "load_cells"
                             and r[s].get("op") in ("write", "rebind")
                             for r in cells for s in ("current", "previous")):
            problems.append("no reported access to CELLS is the rebind in load_cells")
        checks.check("nova.context.CELLS is reported, both accesses innermost in ...%s"
                     % NOVA_CONTEXT, problems)
        for r in cells:
            print("     CELLS %s: %s / %s" % (r["kind"], where(r["current"]), where(r["previous"])))

        # 4. CELL_CACHE
        cache = [r for r in races if base_name(r) == "nova.context.CELL_CACHE"]
        problems = []
        for r in cache:
            problems.append("%s %s: %s [thread %s] / %s [thread %s]"
                            % (full_name(r), r["kind"], where(r["current"]),
                               r["current"]["thread"]["name"], where(r["previous"]),
                               r["previous"]["thread"]["name"]))
        if cache:
            problems.append("(see docs/findings.md, nova.context.CELL_CACHE: the semaphore is "
                            "recreated through lockutils' weak-value registry; rerun with "
                            "`-- --pin-locks` to compare)")
        checks.check("no race on nova.context.CELL_CACHE", problems)

        # 5. everything else is examined in docs/findings.md
        findings = load_findings(os.path.join(ROOT, FINDINGS))
        problems = [] if findings else ["%s has no `### ` finding with Variables/Verdict lines"
                                        % FINDINGS]
        for name in sorted({base_name(r) for r in races}):
            if finding_of(name, findings) is None:
                example = next(r for r in races if base_name(r) == name)
                problems.append("%s is not examined in %s (%s / %s)"
                                % (name, FINDINGS, where(example["current"]),
                                   where(example["previous"])))
        checks.check("every reported variable is examined in %s" % FINDINGS, problems)
        for name in sorted({base_name(r) for r in races}):
            print("     %-60s %s" % (name, finding_of(name, findings)))

        # 6. the default suppressions leave only what is not suppressed by design
        problems = []
        if os.path.exists(trace):
            analyzed = run([args.pyrace, "analyze", "--suppressions",
                            os.path.join(ROOT, SUPPRESSIONS), "--json", supp_json, trace],
                           UNTRACED_TIMEOUT)
            timings.append(("pyrace analyze --suppressions", analyzed.seconds))
            try:
                with open(supp_json, encoding="utf-8") as f:
                    left = json.load(f)["races"]
            except (OSError, ValueError, KeyError) as exc:
                left = []
                problems.append("no usable JSON report %s: %s" % (supp_json, exc))
                problems += describe(analyzed)
            for name in sorted({base_name(r) for r in left}):
                verdict = finding_of(name, findings) or "(not examined)"
                if not (verdict.startswith("**real**") or "not suppressed" in verdict):
                    problems.append("%s is left by %s but its verdict is %s"
                                    % (name, SUPPRESSIONS, verdict))
            print("     left after suppressions: %s"
                  % (", ".join(sorted({base_name(r) for r in left})) or "(none)"))
        else:
            problems.append("no trace was kept at %s" % trace)
        checks.check("%s suppresses every benign report and nothing real" % SUPPRESSIONS,
                     problems)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    for label, seconds in timings:
        print("time %-42s %6.2f s" % (label, seconds))
    print("%d passed, %d failed" % (checks.passed, checks.failed))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
