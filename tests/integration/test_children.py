"""Integration tests of `pyrace attach --children` and of several -p: worker processes.

Called by run_all.py (cases named `children: ...`); each function raises AssertionError with a
message when an expectation is not met."""
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

from test_attach import PYRACE, ROOT, SERVICE, SYSTEM_PYTHON, BpfObjects, Service, start_attach, wait_attached

PREFORK = os.path.join(ROOT, "tests", "services", "prefork_service.py")
LAUNCHER = os.path.join(ROOT, "tests", "services", "launcher_service.py")
RACY = os.path.join(ROOT, "tests", "corpus", "racy_unlocked_write.py")


def other_python():
    """pyenv's interpreter (libpython3.11.so) when there is one: a second interpreter file."""
    found = glob.glob(os.path.expanduser("~/.pyenv/versions/3.11.*/bin/python3.11"))
    return sorted(found)[-1] if found else SYSTEM_PYTHON


def wait_for(predicate, what, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


def load(port, prefix, seconds=1.5, clients=4):
    """Concurrent requests for a few fresh keys: each miss is a check-then-act race."""
    stop = time.time() + seconds
    errors = []

    def client(n):
        i = 0
        while time.time() < stop and i < 300:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/item/%s%d" % (port, prefix, i % 3), timeout=5) as r:
                    r.read()
            except Exception as exc:  # reported below
                errors.append(exc)
                return
            i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise AssertionError("port %d failed under load: %r" % (port, errors[0]))


class Prefork:
    """The pre-forking service: a parent and its workers, each with its own port."""

    def __init__(self, workers=2):
        self.dir = tempfile.mkdtemp(prefix="pyrace-prefork-")
        self.proc = subprocess.Popen([SYSTEM_PYTHON, PREFORK, self.dir, str(workers)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(os.path.join(self.dir, "parent.ready")), "the parent")
        wait_for(lambda: len(self.ports()) == workers, "%d workers" % workers)

    def ports(self):
        """worker pid -> port"""
        result = {}
        for path in glob.glob(os.path.join(self.dir, "worker-*.port")):
            with open(path) as f:
                result[int(os.path.basename(path)[7:-5])] = int(f.read())
        return result

    def fork_worker(self):
        before = set(self.ports())
        os.kill(self.proc.pid, signal.SIGUSR1)
        new = wait_for(lambda: set(self.ports()) - before, "the new worker")
        return new.pop()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pid in self.ports():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def race_pids(report):
    """pid of each race; fails on a race whose two accesses are of different processes."""
    pids = []
    for race in report["races"]:
        cur, prev = race["current"]["thread"], race["previous"]["thread"]
        assert "pid" in cur and "pid" in prev, "no pid in %s" % race
        assert cur["pid"] == prev["pid"], "a race across processes: %s" % race
        pids.append(cur["pid"])
    return pids


def finish(proc, out_json, statuses=(66,)):
    _, err = proc.communicate(timeout=90)
    assert proc.returncode in statuses, "exit %s, expected %s:\n%s" % (proc.returncode, statuses, err[-3000:])
    with open(out_json) as f:
        return json.load(f), err


def test_prefork_workers():
    """--children on the parent of a pre-forking service: races in each worker with its pid,
    none across processes; a worker forked after the attach is traced too; nothing of ours
    stays in the kernel and every worker keeps serving."""
    svc = Prefork(workers=2)
    out_json = os.path.join(svc.dir, "report.json")
    try:
        proc = start_attach(svc.proc.pid, "--children", "--duration", "9", "--json", out_json)
        lines = wait_attached(proc)
        ours = BpfObjects().snapshot(proc.pid)
        workers = svc.ports()
        attached = "".join(lines)
        for pid in workers:
            assert "process %d " % pid in attached, "worker %d not attached:\n%s" % (pid, attached)
        for pid, port in workers.items():
            load(port, "w%d-" % pid)
        late = svc.fork_worker()
        load(svc.ports()[late], "late-")
        ours.snapshot(proc.pid)
        report, err = finish(proc, out_json)
        pids = race_pids(report)
        expected = set(workers) | {late}
        assert expected <= set(pids), "races in processes %s, expected in each of %s:\n%s" % (
            sorted(set(pids)), sorted(expected), err[-3000:])
        assert set(pids) <= expected, "races in processes %s outside the workers %s" % (sorted(set(pids)), sorted(expected))
        names = {(r["variable"]["module"], r["variable"]["name"]) for r in report["races"]}
        assert names == {("__main__", "RESPONSE_CACHE")}, "races on %s" % sorted(names)
        listed = {p["pid"]: p["ppid"] for p in report["processes"]}
        for pid in expected:
            assert listed.get(pid) == svc.proc.pid, "process list %s lacks worker %d" % (listed, pid)
        assert report["stats"]["lost_events"] == 0
        assert "of process %d (" % late in err, "the text report does not name the process:\n" + err[-2000:]
        ours.assert_gone()
        for pid, port in svc.ports().items():
            load(port, "after-", seconds=0.2, clients=1)
    finally:
        svc.stop()


def test_two_pids_one_exits():
    """Two unrelated services under two interpreters, two -p: both traced; one is killed and
    tracing goes on with the other until the deadline."""
    first, second = Service(), Service(python=other_python())
    out_json = os.path.join(tempfile.mkdtemp(prefix="pyrace-twopids-"), "report.json")
    try:
        proc = start_attach(first.proc.pid, "-p", str(second.proc.pid), "--duration", "6",
                            "--json", out_json)
        lines = wait_attached(proc)
        ours = BpfObjects().snapshot(proc.pid)
        assert "2 processes" in lines[-1], "".join(lines)
        load(first.port, "a-")
        load(second.port, "b-")
        first.stop()
        said = []
        wait_for(lambda: said.append(proc.stderr.readline()) or "%d ended" % first.proc.pid in said[-1],
                 "pyrace to say the first process ended")
        load(second.port, "c-")
        report, err = finish(proc, out_json)
        pids = race_pids(report)
        assert {first.proc.pid, second.proc.pid} <= set(pids), "races in %s:\n%s" % (sorted(set(pids)), err[-2000:])
        after_kill = [r for r in report["races"] if r["variable"].get("key", "").startswith("c-")]
        assert after_kill and all(r["current"]["thread"]["pid"] == second.proc.pid for r in after_kill), \
            "no race in the second process after the first ended"
        assert report["stats"]["ended_early"] is False
        ours.assert_gone()
        assert second.get("/item/k9")["key"] == "k9"
    finally:
        first.stop()
        second.stop()


def test_exec_python_and_others():
    """A followed process runs another interpreter's Python program, a non-Python program
    twice and the system Python: both Pythons are traced, the other program is said once and
    counted twice."""
    work = tempfile.mkdtemp(prefix="pyrace-exec-")
    with open(os.path.join(work, "commands"), "w") as f:
        json.dump([[other_python(), RACY], ["/bin/true"], ["/bin/true"], [SYSTEM_PYTHON, RACY]], f)
    launcher = subprocess.Popen([SYSTEM_PYTHON, LAUNCHER, work], stdout=subprocess.DEVNULL)
    out_json = os.path.join(work, "report.json")
    try:
        wait_for(lambda: os.path.exists(os.path.join(work, "ready")), "the launcher")
        proc = start_attach(launcher.pid, "--children", "--duration", "8", "--json", out_json)
        wait_attached(proc)
        os.kill(launcher.pid, signal.SIGUSR1)
        wait_for(lambda: os.path.exists(os.path.join(work, "done-1")), "the commands", timeout=30)
        os.kill(launcher.pid, signal.SIGTERM)  # the launcher ends: so does the attach
        report, err = finish(proc, out_json)
        assert report["stats"]["ended_early"] is True, "the end of the launcher was not noticed"
        pids = race_pids(report)
        runs = {p["pid"]: p for p in report["processes"] if p["argv"][-1:] == [RACY]}
        assert len(runs) == 2, "processes %s" % report["processes"]
        assert set(pids) == set(runs), "races in %s, programs %s" % (sorted(set(pids)), sorted(runs))
        assert report["stats"]["untraced_processes"] == 2, report["stats"]
        said = [l for l in err.splitlines() if "not a CPython process" in l]
        assert len(said) == 1 and "true" in said[0], "said: %s" % said
    finally:
        launcher.kill()
        launcher.wait()
        shutil.rmtree(work, ignore_errors=True)


def test_errors():
    sleeper = subprocess.Popen(["sleep", "30"])
    svc = Service()
    try:
        result = subprocess.run([PYRACE, "attach", "-p", str(svc.proc.pid), "-p", str(sleeper.pid),
                                 "--duration", "1"], capture_output=True, text=True, timeout=60)
        assert result.returncode == 2, "exit %s\n%s" % (result.returncode, result.stderr)
        assert "%d" % sleeper.pid in result.stderr and "not a cpython" in result.stderr.lower(), result.stderr
        result = subprocess.run([PYRACE, "record", "-o", "/dev/null", "--children", "--", "true"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, result.stderr
    finally:
        sleeper.kill()
        sleeper.wait()
        svc.stop()


CASES = [
    ("children: pre-forking service, races per worker, a worker forked after attach", test_prefork_workers),
    ("children: two -p under two interpreters, one exits early", test_two_pids_one_exits),
    ("children: exec of Python programs and of others", test_exec_python_and_others),
    ("children: a non-Python -p, --children without -p", test_errors),
]
