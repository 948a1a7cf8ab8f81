#!/usr/bin/env python3
"""pyrace on the standard library's module caches: mimetypes initialisation and re's cache.

For each driver under tests/realworld/: runs it untraced (must exit 0), then under
`pyrace run` (exit 66, no lost events), and checks that
  - the variables of the real finding are reported (mimetypes: the globals that init() rebinds);
  - every reported variable is examined in docs/findings.md;
  - `pyrace analyze --suppressions suppressions/default.supp` on the trace leaves only
    variables whose verdict is real.

Prints `ok NAME` / `FAIL NAME` lines, timings, then `N passed, N failed`; exits 1 on failure.

    tests/realworld/check_stdlib.py [--pyrace PATH]
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_nova as common  # noqa: E402  (helpers: run, describe, findings)

# driver -> (variables at least one of which must be reported, what they stand for)
DRIVERS = [
    ("stdlib_mimetypes.py", {"mimetypes._db", "mimetypes.types_map", "mimetypes.suffix_map",
                             "mimetypes.encodings_map", "mimetypes.common_types"},
     "init() rebinding the mimetypes globals"),
    ("stdlib_re.py", {"re._cache"}, "the compile cache"),
]


def check_driver(args, checks, timings, work, driver, wanted, what):
    cmd = [common.PYTHON, os.path.join("tests", "realworld", driver)]
    plain = common.run(cmd, common.UNTRACED_TIMEOUT)
    timings.append(("%s untraced" % driver, plain.seconds))
    checks.check("%s exits 0 untraced" % driver,
                 [] if plain.returncode == 0 and not plain.timed_out else common.describe(plain))

    trace = os.path.join(work, driver + ".trace")
    out = os.path.join(work, driver + ".json")
    traced = common.run([args.pyrace, "run", "-o", trace, "--json", out, "--"] + cmd,
                        common.TRACED_TIMEOUT)
    timings.append(("%s traced" % driver, traced.seconds))
    problems, races = [], []
    if traced.timed_out or traced.returncode != common.EXIT_RACES:
        problems.append("expected exit status %d" % common.EXIT_RACES)
    try:
        with open(out, encoding="utf-8") as f:
            report = json.load(f)
        races = report["races"]
        if report["stats"].get("lost_events") != 0:
            problems.append("stats.lost_events = %r" % report["stats"].get("lost_events"))
    except (OSError, ValueError, KeyError) as exc:
        problems.append("no usable JSON report: %s" % exc)
    checks.check("%s: pyrace exits 66 with no lost events" % driver,
                 problems + (common.describe(traced) if problems else []))

    names = {common.base_name(r) for r in races}
    checks.check("%s: %s reported" % (driver, what),
                 [] if names & wanted else ["none of %s in %s" % (sorted(wanted), sorted(names))])

    findings = common.load_findings(os.path.join(common.ROOT, common.FINDINGS))
    checks.check("%s: every reported variable is examined in %s" % (driver, common.FINDINGS),
                 ["%s is not examined" % n for n in sorted(names)
                  if common.finding_of(n, findings) is None])

    left_json = os.path.join(work, driver + ".suppressed.json")
    analyzed = common.run([args.pyrace, "analyze", "--suppressions",
                           os.path.join(common.ROOT, common.SUPPRESSIONS), "--json", left_json,
                           trace], common.UNTRACED_TIMEOUT)
    problems = []
    try:
        with open(left_json, encoding="utf-8") as f:
            left = {common.base_name(r) for r in json.load(f)["races"]}
    except (OSError, ValueError, KeyError) as exc:
        left = set()
        problems = ["no usable JSON report: %s" % exc] + common.describe(analyzed)
    for n in sorted(left):
        verdict = common.finding_of(n, findings) or "(not examined)"
        if not verdict.startswith("**real**"):
            problems.append("%s is left by the default suppressions, verdict %s" % (n, verdict))
    checks.check("%s: the default suppressions leave only real races (%s)"
                 % (driver, ", ".join(sorted(left)) or "none"), problems)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pyrace", default=os.path.join(common.ROOT, "pyrace"))
    args = parser.parse_args()
    checks = common.Checks()
    timings = []
    work = tempfile.mkdtemp(prefix="pyrace-check-stdlib-")
    try:
        for driver, wanted, what in DRIVERS:
            check_driver(args, checks, timings, work, driver, wanted, what)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for label, seconds in timings:
        print("time %-42s %6.2f s" % (label, seconds))
    print("%d passed, %d failed" % (checks.passed, checks.failed))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
