"""Manners of the command line: --help everywhere, the man page, make install, and the live
status line (on a terminal only).

Called by run_all.py; each function raises AssertionError with a message when an expectation
is not met."""
import os
import pty
import re
import select
import shutil
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYRACE = os.path.abspath(os.environ.get("PYRACE_BIN") or os.path.join(ROOT, "pyrace"))  # run_all.py
MAN_PAGE = os.path.join(ROOT, "docs", "pyrace.1")
SYSTEM_PYTHON = "/usr/bin/python3.11"
OUTPUT = ["--json", "--sarif", "--junit", "--html", "--suppressions", "--baseline", "--redact-keys"]
TRACING = ["--debug-dir", "PYRACE_RING_SIZE", "PYRACE_CONSUMER_DELAY_MS"]
# every option each command accepts (its getopt table), all of which its --help must name
COMMAND_OPTIONS = {
    "run": OUTPUT + TRACING + ["-o, --output"],
    "attach": OUTPUT + TRACING + ["-p, --pid", "--duration", "-o, --output"],
    "record": TRACING + ["-o, --output", "-p, --pid", "--duration"],
    "analyze": OUTPUT,
    "diff": [],
    "doctor": ["--python", "-p, --pid", "--debug-dir"],
}
STATUS = re.compile(r"\rpyrace: \d+ events/s, \d+ threads, \d+ watched dicts, \d+ lost events\x1b\[K")
# a program that runs long enough (about 1.5 s) for the status line to be drawn a few times
BUSY_PROGRAM = """
import threading, time
DATA = {}
def work(n):
    end = time.time() + 1.5
    while time.time() < end:
        DATA[n] = DATA.get(n, 0) + 1
        time.sleep(0.0005)
threads = [threading.Thread(target=work, args=(n,)) for n in range(3)]
for t in threads: t.start()
for t in threads: t.join()
"""


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, **kw)


def help_problems(binary):
    problems = []
    main = run([binary, "--help"])
    if main.returncode != 0 or main.stderr or not main.stdout.startswith("usage: pyrace COMMAND"):
        problems.append("pyrace --help: exit %s, stderr %r" % (main.returncode, main.stderr[:200]))
    for command, options in COMMAND_OPTIONS.items():
        if not re.search(r"^  %s\s" % command, main.stdout, re.M):
            problems.append("pyrace --help does not list %s" % command)
        for flag in ("--help", "-h"):
            result = run([binary, command, flag])
            if result.returncode != 0 or result.stderr or \
                    not result.stdout.startswith("usage: pyrace %s" % command):
                problems.append("pyrace %s %s: exit %s, stderr %r, stdout starts %r" %
                                (command, flag, result.returncode, result.stderr[:200], result.stdout[:40]))
        text = run([binary, command, "--help"]).stdout
        missing = [o for o in options + ["-h, --help", "Exit status"] if o not in text]
        if missing:
            problems.append("pyrace %s --help lacks %s" % (command, missing))
    return problems


def test_help():
    problems = help_problems(PYRACE)
    version = run([PYRACE, "--version"])
    if version.returncode != 0 or not version.stdout.startswith("pyrace "):
        problems.append("--version: exit %s, %r" % (version.returncode, version.stdout))
    if problems:
        raise AssertionError("\n".join(problems))


def rendered_man(path):
    """The page as text; AssertionError on any warning of man or groff."""
    if not shutil.which("man") or not shutil.which("groff"):
        raise AssertionError("man and groff are needed (make test-deps installs man-db groff-base)")
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat", PAGER="cat")
    problems = []
    groff = run(["groff", "-man", "-Tutf8", "-ww", "-z", path])
    if groff.returncode != 0 or groff.stderr:
        problems.append("groff -man -ww: exit %s: %s" % (groff.returncode, groff.stderr[:1000]))
    man = run(["man", "--warnings=w", "-l", path], env=env)
    if man.returncode != 0 or man.stderr:
        problems.append("man -l: exit %s: %s" % (man.returncode, man.stderr[:1000]))
    if problems:
        raise AssertionError("\n".join(problems))
    return re.sub(r".\x08", "", man.stdout)  # no overstrike, in case a pager was skipped


def test_man_page():
    text = rendered_man(MAN_PAGE)
    flat = re.sub(r"[\u2010\u2011]", "-", re.sub(r"\s+", " ", text))
    wanted = ["NAME", "SYNOPSIS", "COMMANDS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES",
              "PYRACE_RING_SIZE", "PYRACE_CONSUMER_DELAY_MS", "default.supp", "--version", "LIVE STATUS"]
    wanted += ["pyrace %s" % c for c in COMMAND_OPTIONS]
    wanted += [o.split(", ")[-1] for opts in COMMAND_OPTIONS.values() for o in opts]
    missing = sorted({w for w in wanted if w not in flat})
    codes = [c for c in ("0", "66", "1", "2") if not re.search(r"EXIT STATUS.*\s%s\s" % c, flat)]
    if missing or codes:
        raise AssertionError("the man page lacks %s; exit codes missing: %s" % (missing, codes))


def test_make_install():
    dest = tempfile.mkdtemp(prefix="pyrace-install-")
    try:
        result = run(["make", "--no-print-directory", "install", "PREFIX=/opt/pyrace", "DESTDIR=" + dest])
        if result.returncode != 0:
            raise AssertionError("make install failed: %s" % result.stderr[-2000:])
        prefix = os.path.join(dest, "opt", "pyrace")
        want = {"bin/pyrace": 0o755, "share/man/man1/pyrace.1": 0o644, "share/pyrace/default.supp": 0o644}
        problems = []
        for rel, mode in want.items():
            path = os.path.join(prefix, rel)
            if not os.path.isfile(path):
                problems.append("%s not installed" % rel)
            elif os.stat(path).st_mode & 0o777 != mode:
                problems.append("%s has mode %o, expected %o" % (rel, os.stat(path).st_mode & 0o777, mode))
        if problems:
            raise AssertionError("\n".join(problems))
        problems = help_problems(os.path.join(prefix, "bin", "pyrace"))
        rendered_man(os.path.join(prefix, "share", "man", "man1", "pyrace.1"))
        with open(os.path.join(prefix, "share", "pyrace", "default.supp")) as a, \
                open(os.path.join(ROOT, "suppressions", "default.supp")) as b:
            if a.read() != b.read():
                problems.append("the installed default.supp differs from suppressions/default.supp")
        if problems:
            raise AssertionError("installed binary: " + "\n".join(problems))
    finally:
        shutil.rmtree(dest, ignore_errors=True)


def traced_on_terminal(program):
    """pyrace run with stderr on a pseudo-terminal: (exit status, everything written to it)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([PYRACE, "run", "--", SYSTEM_PYTHON, program], cwd=ROOT,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks, deadline = [], time.time() + 90
    while time.time() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("pyrace run did not end")
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_status_line():
    work = tempfile.mkdtemp(prefix="pyrace-status-")
    try:
        program = os.path.join(work, "busy.py")
        with open(program, "w") as f:
            f.write(BUSY_PROGRAM)
        problems = []
        status, text = traced_on_terminal(program)
        lines = STATUS.findall(text)
        if status not in (0, 66):
            problems.append("on a terminal: exit %s" % status)
        if len(lines) < 2:
            problems.append("on a terminal: %d status lines in %r" % (len(lines), text[:600]))
        last = text.rfind("events/s")
        if "\r\x1b[K" not in text[last:] or not re.search(r"\r\x1b\[Kpyrace: ", text[last:]):
            problems.append("the status line is not erased before the report: %r" % text[last - 80:last + 200])
        result = run([PYRACE, "run", "--", SYSTEM_PYTHON, program])
        if "events/s" in result.stderr or "\r" in result.stderr or "\x1b" in result.stderr:
            problems.append("stderr is a pipe, yet it got the status line: %r" % result.stderr[:300])
        if result.returncode not in (0, 66) or "pyrace:" not in result.stderr:
            problems.append("not on a terminal: exit %s, %r" % (result.returncode, result.stderr[-300:]))
        if problems:
            raise AssertionError("\n".join(problems))
    finally:
        shutil.rmtree(work, ignore_errors=True)


CASES = [
    ("cli: --help of pyrace and of every command: complete, exit 0, on stdout", test_help),
    ("cli: the man page renders with man -l and groff without warnings, and is complete", test_man_page),
    ("cli: make install PREFIX DESTDIR, then the installed --help and man page", test_make_install),
    ("cli: live status line on a terminal (pty), never on a pipe", test_status_line),
]
