"""Integration tests of `pyrace attach`: a running threaded HTTP service on loopback.

Called by run_all.py (cases named `attach: ...`); each function raises AssertionError with a
message when an expectation is not met."""
import json
import os
import re
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYRACE = os.path.abspath(os.environ.get("PYRACE_BIN") or os.path.join(ROOT, "pyrace"))  # run_all.py
SERVICE = os.path.join(ROOT, "tests", "services", "cache_service.py")
SYSTEM_PYTHON = "/usr/bin/python3.11"


class Service:
    """The cache service started in the background on a free loopback port."""

    def __init__(self, python=SYSTEM_PYTHON):
        self.workdir = tempfile.mkdtemp(prefix="pyrace-svc-")
        port_file = os.path.join(self.workdir, "port")
        self.proc = subprocess.Popen([python, SERVICE, port_file],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while not os.path.exists(port_file):
            if time.time() > deadline or self.proc.poll() is not None:
                raise AssertionError("the service did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=5) as r:
            return json.loads(r.read())

    def load(self, seconds, clients=4, prefix="/item/"):
        """Drives concurrent requests for a few keys for `seconds` (bounded)."""
        stop = time.time() + seconds
        errors = []

        def client(n):
            i = 0
            while time.time() < stop and i < 500:
                try:
                    self.get("%sk%d" % (prefix, i % 3))
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
            raise AssertionError("the service failed under load: %r" % errors[0])

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def start_attach(pid, *args):
    return subprocess.Popen([PYRACE, "attach", "-p", str(pid)] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_attached(proc, timeout=20):
    """Reads stderr until pyrace says it is attached; returns the lines read."""
    lines = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "attached to" in line:
            return lines
    raise AssertionError("pyrace did not attach: %s" % "".join(lines))


class BpfObjects:
    """The BPF programs, links and maps of one pyrace process, read from its own file
    descriptors (/proc/PID/fdinfo) while it runs. Other pyrace runs on the machine (other tests,
    other users) have theirs: a check by program name would see them and fail, or let ours
    pass for theirs."""

    def __init__(self):
        self.ids = {"prog": set(), "link": set(), "map": set()}

    def snapshot(self, pid):
        """Adds what process `pid` holds now; call it while attached (and again after new
        processes were attached, each with links of its own)."""
        fdinfo = "/proc/%d/fdinfo" % pid
        try:
            fds = os.listdir(fdinfo)
        except OSError:
            return self
        for fd in fds:
            try:
                with open(os.path.join(fdinfo, fd)) as f:
                    text = f.read()
            except OSError:
                continue
            for kind in self.ids:
                m = re.search(r"^%s_id:\s+(\d+)" % kind, text, re.M)
                if m:
                    self.ids[kind].add(int(m.group(1)))
        return self

    def left(self):
        """Those still in the kernel (ids are not reused soon: the kernel allocates them
        cyclically)."""
        leftover = {}
        for kind, cmd in (("prog", "prog"), ("link", "link"), ("map", "map")):
            out = subprocess.run(["bpftool", "-j", cmd, "show"], capture_output=True, text=True).stdout
            present = {o.get("id") for o in json.loads(out or "[]")}
            still = sorted(self.ids[kind] & present)
            if still:
                leftover[kind] = still
        return leftover

    def assert_gone(self):
        assert self.ids["prog"] and self.ids["link"], "no BPF program or link of pyrace was seen: %s" % self.ids
        # the kernel frees a program an RCU grace period after its last reference
        deadline = time.time() + 5
        while self.left() and time.time() < deadline:
            time.sleep(0.1)
        assert not self.left(), "left in the kernel: %s" % self.left()


def test_race_found_and_service_unharmed():
    svc = Service()
    try:
        before = svc.get("/stats")["count"]
        work = tempfile.mkdtemp(prefix="pyrace-attach-")
        out_json = os.path.join(work, "report.json")
        proc = start_attach(svc.proc.pid, "--duration", "4", "--json", out_json)
        wait_attached(proc)
        ours = BpfObjects().snapshot(proc.pid)
        svc.load(2.5)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 66, "exit %s, expected 66:\n%s" % (proc.returncode, err)
        with open(out_json) as f:
            report = json.load(f)
        names = {(r["variable"]["module"], r["variable"]["name"]) for r in report["races"]}
        assert names == {("__main__", "RESPONSE_CACHE")}, "races on %s" % sorted(names)
        for race in report["races"]:
            for side in ("current", "previous"):
                top = race[side]["stack"][0]
                assert top["function"] == "Handler.do_GET" and top["file"] == SERVICE, top
        assert report["stats"]["lost_events"] == 0
        assert report["target"]["pid"] == svc.proc.pid
        # the service keeps serving, and its own state shows it was never disturbed
        after = svc.get("/stats")["count"]
        assert after == before + 1, "stats count %d after %d" % (after, before)
        assert svc.get("/item/k9")["key"] == "k9"
        ours.assert_gone()
    finally:
        svc.stop()


def test_list_and_set_seeded():
    """A list and a set bound to globals before the attach are found by the walk of the
    running interpreter: their unlocked use by request threads is reported."""
    svc = Service()
    try:
        work = tempfile.mkdtemp(prefix="pyrace-attach-")
        out_json = os.path.join(work, "report.json")
        proc = start_attach(svc.proc.pid, "--duration", "4", "--json", out_json)
        wait_attached(proc)
        svc.load(2.5, prefix="/log/")
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 66, "exit %s, expected 66:\n%s" % (proc.returncode, err)
        with open(out_json) as f:
            report = json.load(f)
        found = {(r["variable"]["name"], r["variable"]["container"]) for r in report["races"]}
        assert ("RECENT", "list") in found and ("SEEN_KEYS", "set") in found, \
            "races on %s" % sorted(found)
        keys = {r["variable"].get("key") for r in report["races"]
                if r["variable"]["name"] == "SEEN_KEYS"}
        assert keys <= {"k0", "k1", "k2", None}, keys
        assert report["stats"]["lost_events"] == 0
    finally:
        svc.stop()


def test_twenty_cycles():
    """Attach and detach 20 times in a row: each works, nothing accumulates in the service or
    in the kernel."""
    svc = Service()
    try:
        svc.load(0.5)
        rss = []
        ours = BpfObjects()
        for cycle in range(20):
            proc = start_attach(svc.proc.pid, "--duration", "0.6")
            wait_attached(proc)
            ours.snapshot(proc.pid)
            svc.load(0.2, clients=2)
            _, err = proc.communicate(timeout=60)
            assert proc.returncode in (0, 66), "cycle %d: exit %s\n%s" % (cycle, proc.returncode, err)
            assert svc.get("/stats")["count"] > 0
            rss.append(svc.rss_kib())
        growth = rss[-1] - rss[4]
        assert growth < 2048, "service RSS grew by %d KiB over 15 cycles: %s" % (growth, rss)
        ours.assert_gone()
    finally:
        svc.stop()


def test_target_exits_while_attached():
    svc = Service()
    proc = start_attach(svc.proc.pid, "--duration", "30")
    try:
        wait_attached(proc)
        svc.load(0.3, clients=2)
    finally:
        svc.stop()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, 66), "exit %s:\n%s" % (proc.returncode, err)
    assert "incomplete" in err or "ended" in err, "the report does not say the target ended:\n" + err


def test_sigint_detaches():
    svc = Service()
    try:
        proc = start_attach(svc.proc.pid)
        wait_attached(proc)
        ours = BpfObjects().snapshot(proc.pid)
        svc.load(0.3, clients=2)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode in (0, 66), "exit %s:\n%s" % (proc.returncode, err)
        assert svc.get("/stats")["count"] >= 1
        ours.assert_gone()
    finally:
        svc.stop()


def _one_line_error(cmd, status, needle):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode == status, "%s: exit %s, expected %s\n%s" % (cmd, result.returncode, status, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0].lower(), "%s: stderr %r" % (cmd, result.stderr)


def test_errors():
    # a pid that does not exist: above pid_max
    _one_line_error([PYRACE, "attach", "-p", "4194305"], 1, "no such process")
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        _one_line_error([PYRACE, "attach", "-p", str(sleeper.pid)], 2, "not a cpython")
    finally:
        sleeper.kill()
        sleeper.wait()
    _one_line_error([PYRACE, "attach", "-p", "abc"], 1, "not a process id")


CASES = [
    ("attach: race in a running HTTP service, service unharmed, nothing left behind",
     test_race_found_and_service_unharmed),
    ("attach: a list and a set bound to globals before the attach", test_list_and_set_seeded),
    ("attach: 20 attach/detach cycles, stable memory", test_twenty_cycles),
    ("attach: the target exits while attached", test_target_exits_while_attached),
    ("attach: SIGINT detaches", test_sigint_detaches),
    ("attach: no such PID, not Python, bad PID", test_errors),
]
