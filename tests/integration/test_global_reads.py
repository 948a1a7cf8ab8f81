"""Integration tests of --global-reads: reads of globals by specialised code (LOAD_GLOBAL).

Called by run_all.py (cases named `global: ...`); each function raises AssertionError with a
message when an expectation is not met. The mode raises the `python:line` USDT semaphore through
the kernel (a uprobe with a reference counter), so the tests read that semaphore from the
target's memory before, during and after an attach."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import test_attach

ROOT = test_attach.ROOT
PYRACE = test_attach.PYRACE
SYSTEM_PYTHON = test_attach.SYSTEM_PYTHON
SERVICE = os.path.join(ROOT, "tests", "services", "global_rebind_service.py")
RACY = os.path.join(ROOT, "tests", "corpus", "racy_global_read_rebind_specialised.py")


def line_semaphore(path):
    """Link-time address of the python:line probe's semaphore, from `readelf -n`."""
    out = subprocess.run(["readelf", "-n", path], capture_output=True, text=True, check=True).stdout
    m = re.search(r"Name: line\s*\n\s*Location: 0x[0-9a-f]+, Base: 0x[0-9a-f]+, Semaphore: (0x[0-9a-f]+)", out)
    assert m, "%s has no python:line USDT probe" % path
    return int(m.group(1), 16)


def load_bias(pid, path):
    """0 for a fixed-address executable, else where the file's first page is mapped."""
    header = subprocess.run(["readelf", "-h", path], capture_output=True, text=True, check=True).stdout
    if re.search(r"Type:\s+EXEC", header):
        return 0
    real = os.path.realpath(path)
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.split()
            if len(fields) >= 6 and fields[5] == real and int(fields[2], 16) == 0:
                return int(fields[0].split("-")[0], 16)
    raise AssertionError("%s is not mapped in %d" % (path, pid))


def read_semaphore(pid, addr):
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(addr)
        return int.from_bytes(f.read(2), "little")


class RebindService:
    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix="pyrace-globals-")
        ready = os.path.join(self.workdir, "ready")
        self.proc = subprocess.Popen([SYSTEM_PYTHON, SERVICE, ready],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while not os.path.exists(ready):
            if time.time() > deadline or self.proc.poll() is not None:
                raise AssertionError("the service did not start")
            time.sleep(0.02)
        self.sem = line_semaphore(SYSTEM_PYTHON) + load_bias(self.proc.pid, SYSTEM_PYTHON)

    def semaphore(self):
        return read_semaphore(self.proc.pid, self.sem)

    def stop(self):
        """SIGTERM: the service ends by itself; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        shutil.rmtree(self.workdir, ignore_errors=True)
        return self.proc.returncode, err


def attach_and_report(svc, *options):
    """Attaches for 2 s with `options`; returns (exit status, report, semaphore while attached,
    the BPF objects pyrace held)."""
    work = tempfile.mkdtemp(prefix="pyrace-globals-")
    try:
        out_json = os.path.join(work, "report.json")
        proc = test_attach.start_attach(svc.proc.pid, "--duration", "2", "--json", out_json, *options)
        test_attach.wait_attached(proc)
        ours = test_attach.BpfObjects().snapshot(proc.pid)
        during = svc.semaphore()
        _, err = proc.communicate(timeout=60)
        assert os.path.exists(out_json), "no report (exit %s):\n%s" % (proc.returncode, err)
        with open(out_json) as f:
            report = json.load(f)
        return proc.returncode, report, during, ours, err
    finally:
        shutil.rmtree(work, ignore_errors=True)


def race_names(report):
    return {"%s.%s" % (r["variable"]["module"], r["variable"]["name"]) for r in report["races"]}


def test_attach_semaphore_restored():
    svc = RebindService()
    try:
        before = svc.semaphore()
        assert before == 0, "the line semaphore is %d before any attach" % before
        status, report, during, ours, err = attach_and_report(svc, "--global-reads")
        assert during == before + 1, "semaphore %d while attached, %d before" % (during, before)
        after = svc.semaphore()
        assert after == before, "semaphore %d after detach, %d before" % (after, before)
        ours.assert_gone()
        assert status == 66, "exit %s, expected 66:\n%s" % (status, err)
        assert race_names(report) == {"__main__.CELLS"}, "races on %s" % sorted(race_names(report))
        reads = [race[side] for race in report["races"] for side in ("current", "previous")
                 if race[side]["op"] == "read"]
        assert reads and all(a["stack"][0]["function"] == "cells_missing" for a in reads), reads
        # a second attach raises and lowers it again: nothing accumulates
        attach_and_report(svc, "--global-reads")
        assert svc.semaphore() == before, "semaphore %d after a second attach" % svc.semaphore()
        rc, err = svc.stop()
        assert rc == 0, "the service ended with %s: %s" % (rc, err)
    finally:
        svc.stop()


def test_semaphore_restored_when_pyrace_killed():
    """The kernel lowers the semaphore when the link's last file descriptor goes, so even a
    SIGKILLed pyrace leaves the target as it found it."""
    svc = RebindService()
    try:
        proc = test_attach.start_attach(svc.proc.pid, "--global-reads")
        test_attach.wait_attached(proc)
        during = svc.semaphore()
        proc.kill()
        proc.communicate(timeout=30)
        deadline = time.time() + 5
        while svc.semaphore() != 0 and time.time() < deadline:
            time.sleep(0.05)
        assert during == 1 and svc.semaphore() == 0, \
            "semaphore %d while attached, %d after pyrace was killed" % (during, svc.semaphore())
    finally:
        svc.stop()


def test_attach_without_mode_misses_read():
    svc = RebindService()
    try:
        status, report, during, _, err = attach_and_report(svc)
        assert during == 0, "the line semaphore is %d without --global-reads" % during
        assert status == 0 and not report["races"], \
            "exit %s, races %s: the specialised read was seen without --global-reads?\n%s" % (
                status, sorted(race_names(report)), err)
    finally:
        svc.stop()


def test_run_without_mode_misses_read():
    work = tempfile.mkdtemp(prefix="pyrace-globals-")
    try:
        out_json = os.path.join(work, "r.json")
        proc = subprocess.run([PYRACE, "run", "--json", out_json, "--", SYSTEM_PYTHON, RACY],
                              capture_output=True, text=True, timeout=60)
        with open(out_json) as f:
            report = json.load(f)
        assert proc.returncode == 0 and not report["races"], \
            "exit %s, races %s without --global-reads" % (proc.returncode, sorted(race_names(report)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _pyenv_python():
    found = shutil.which("python3")
    if not found:
        return None
    exe = subprocess.run([found, "-c", "import sys; print(sys.executable)"],
                         capture_output=True, text=True).stdout.strip()
    if not exe or os.path.realpath(exe) == os.path.realpath(SYSTEM_PYTHON):
        return None
    return exe


def test_refused_without_usdt():
    python = _pyenv_python()
    if python is None:
        return  # no second interpreter here
    proc = subprocess.run([PYRACE, "run", "--global-reads", "--", python, "-c", "print('ran')"],
                          capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, "exit %s, expected 2: %s" % (proc.returncode, proc.stderr)
    assert len(lines) == 1 and "--global-reads" in lines[0] and "USDT" in lines[0], proc.stderr
    assert proc.stdout == "ran\n", "the command did not run untraced: %r" % proc.stdout


def test_no_reads_conflict():
    proc = subprocess.run([PYRACE, "run", "--global-reads", "--no-reads", "--", SYSTEM_PYTHON, "-c", "1"],
                          capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "--no-reads" in lines[0], \
        "exit %s: %s" % (proc.returncode, proc.stderr)


CASES = [
    ("global: attach --global-reads: line semaphore 0 -> 1 -> 0, race on CELLS, nothing left",
     test_attach_semaphore_restored),
    ("global: attach --global-reads, pyrace SIGKILLed: the line semaphore is back to 0",
     test_semaphore_restored_when_pyrace_killed),
    ("global: attach without --global-reads: semaphore untouched, specialised read missed",
     test_attach_without_mode_misses_read),
    ("global: run without --global-reads misses the specialised read", test_run_without_mode_misses_read),
    ("global: --global-reads without USDT probes (pyenv) -> exit 2, one line, runs untraced",
     test_refused_without_usdt),
    ("global: --global-reads with --no-reads -> exit 1, one line", test_no_reads_conflict),
]
