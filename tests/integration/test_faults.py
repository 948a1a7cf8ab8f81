"""Fault injection: pyrace or its target killed mid-run, a ring buffer too small, 200 threads.

Called by run_all.py (cases named `faults: ...`); each function raises AssertionError with a
message when an expectation is not met."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

from test_attach import PYRACE, ROOT, SYSTEM_PYTHON, BpfObjects, Service, start_attach, wait_attached

LONG_PROGRAM = """
import sys, threading, time
CACHE = {}
def worker(n):
    for i in range(200):
        CACHE["k"] = i
        time.sleep(0.01)
threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
[t.start() for t in threads]
[t.join() for t in threads]
open(sys.argv[1], "w").write("finished")
"""


def _program(work):
    path = os.path.join(work, "long.py")
    with open(path, "w") as f:
        f.write(LONG_PROGRAM)
    return path


def test_tracer_killed_run():
    """pyrace run killed with SIGKILL: the program runs on to its end, no probe remains."""
    work = tempfile.mkdtemp(prefix="pyrace-fault-")
    marker = os.path.join(work, "done")
    proc = subprocess.Popen([PYRACE, "run", "--", SYSTEM_PYTHON, _program(work), marker],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    ours = BpfObjects().snapshot(proc.pid)
    proc.kill()
    proc.wait()
    deadline = time.time() + 20
    while not os.path.exists(marker) and time.time() < deadline:
        time.sleep(0.1)
    assert os.path.exists(marker), "the program did not finish after pyrace was killed"
    ours.assert_gone()


def test_tracer_killed_attach():
    """pyrace attach killed with SIGKILL: the service keeps serving, no probe remains."""
    svc = Service()
    try:
        proc = start_attach(svc.proc.pid)
        wait_attached(proc)
        ours = BpfObjects().snapshot(proc.pid)
        svc.load(0.3, clients=2)
        proc.kill()
        proc.wait()
        svc.load(0.3, clients=2)
        assert svc.get("/stats")["count"] >= 1
        ours.assert_gone()
    finally:
        svc.stop()


def test_target_killed():
    """The program killed mid-run: the trace is analysed, the report says it ended early."""
    work = tempfile.mkdtemp(prefix="pyrace-fault-")
    out_json = os.path.join(work, "r.json")
    trace = os.path.join(work, "t.trace")
    proc = subprocess.Popen([PYRACE, "run", "--json", out_json, "-o", trace, "--",
                             SYSTEM_PYTHON, _program(work), os.path.join(work, "done")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    # the python process is pyrace's child: find it and kill it
    deadline = time.time() + 10
    child = None
    while child is None and time.time() < deadline:
        out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        child = int(out[0]) if out else None
        time.sleep(0.05)
    assert child, "no child process found"
    time.sleep(1.0)
    os.kill(child, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 66, "exit %s, expected 66 (the race happened before the kill):\n%s" % (proc.returncode, err)
    with open(out_json) as f:
        report = json.load(f)
    assert report["stats"]["ended_early"] is True, report["stats"]
    assert "incomplete" in err, "the text report does not say results are incomplete:\n" + err
    result = subprocess.run([PYRACE, "analyze", trace], capture_output=True, text=True, timeout=60)
    assert result.returncode == 66, "analyze of the trace: exit %s\n%s" % (result.returncode, result.stderr)


def test_ring_buffer_overflow():
    """A ring buffer far too small and a slow reader: the loss is counted and the report says
    it is incomplete."""
    out = os.path.join(tempfile.mkdtemp(prefix="pyrace-fault-"), "r.json")
    env = dict(os.environ, PYRACE_RING_SIZE="4096", PYRACE_CONSUMER_DELAY_MS="100")
    result = subprocess.run([PYRACE, "run", "--json", out, "--", SYSTEM_PYTHON,
                             os.path.join(ROOT, "tests", "corpus", "racy_unlocked_write.py")],
                            capture_output=True, text=True, timeout=120, env=env)
    with open(out) as f:
        stats = json.load(f)["stats"]
    assert stats["lost_events"] > 0, "no loss counted with a 4 KiB ring buffer: %s" % stats
    assert "lost" in result.stderr and "incomplete" in result.stderr, result.stderr[-500:]


MANY_THREADS = os.path.join("tests", "corpus", "racy_200_threads_locked_and_racy.py")


def test_200_threads():
    """200 threads writing module-global dicts, most under locks (issue #9.2): exactly the two
    racy keys of the program's `# expect:` header, every thread seen, no event lost with the
    default ring buffer, and the program's output the same as untraced."""
    with open(os.path.join(ROOT, MANY_THREADS)) as f:
        expected = set(re.findall(r"^# expect: (.+)$", f.read(), re.M))
    assert len(expected) == 2, expected
    untraced = subprocess.run([SYSTEM_PYTHON, MANY_THREADS], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
    assert untraced.returncode == 0, untraced.stderr
    out = os.path.join(tempfile.mkdtemp(prefix="pyrace-fault-"), "r.json")
    traced = subprocess.run([PYRACE, "run", "--json", out, "--", SYSTEM_PYTHON, MANY_THREADS], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert traced.returncode == 66, "exit %s, expected 66:\n%s" % (traced.returncode, traced.stderr[-2000:])
    assert traced.stdout == untraced.stdout, "output changed under pyrace:\n%s\nuntraced:\n%s" % (
        traced.stdout, untraced.stdout)
    with open(out) as f:
        report = json.load(f)
    stats = report["stats"]
    got = {"%s.%s['%s']" % (r["variable"]["module"], r["variable"]["name"], r["variable"].get("key"))
           for r in report["races"]}
    assert got == expected, "races %s, expected %s" % (sorted(got), sorted(expected))
    assert stats["threads"] >= 200, "only %s threads seen: %s" % (stats["threads"], stats)
    assert stats["lost_events"] == 0, "events lost with the default ring buffer: %s" % stats
    assert "0 lost events" in traced.stderr, traced.stderr[-500:]


CASES = [
    ("faults: pyrace run killed with SIGKILL", test_tracer_killed_run),
    ("faults: pyrace attach killed with SIGKILL", test_tracer_killed_attach),
    ("faults: the target killed mid-run", test_target_killed),
    ("faults: ring buffer overflow is counted and reported", test_ring_buffer_overflow),
    ("faults: 200 threads, locked and racy dicts", test_200_threads),
]
