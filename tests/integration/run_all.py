#!/usr/bin/env python3
"""pyrace integration tests (run by `make integration` from the repository root).

Runs ./pyrace on every labelled program in tests/corpus/ and on
examples/cell_cache.py, under each interpreter, and checks that the reported
races are exactly the program's `# expect:` header, and the reported potential
deadlocks exactly its `# expect-deadlock: LOCK LOCK...` lines (one per cycle,
its locks in any order; none without such a line); then checks pyrace's
handling of bad input.

    tests/integration/run_all.py [--only SUBSTRING] [--interp PATH] [-j N]

Prints one `ok NAME` or `FAIL NAME` line per case (details indented below a
failure) and finally `N passed, N failed`; exits 1 if anything failed.
Needs root (pyrace does) and the standard library only.

PYRACE_BIN=PATH runs another pyrace binary instead of ./pyrace; with PYRACE_SANITIZED=1 it is
an ASan+UBSan build (make integration-asan) and a sanitizer report fails the case.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import sys
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# PYRACE_BIN=PATH tests another build (make integration-asan: .output/asan/pyrace)
PYRACE = os.path.abspath(os.environ.get("PYRACE_BIN") or os.path.join(ROOT, "pyrace"))
# PYRACE_SANITIZED=1: PYRACE is built with ASan+UBSan; any sanitizer report fails the case
SANITIZED = os.environ.get("PYRACE_SANITIZED") == "1"
SANITIZER_MARKERS = ("runtime error:", "ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "ERROR: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer",
                     "SUMMARY: UndefinedBehaviorSanitizer")
CORPUS_DIR = os.path.join("tests", "corpus")
EXAMPLES = [os.path.join("examples", "cell_cache.py")]
WORK_DIR = os.path.join("tests", ".work")  # scratch space, ignored by git
if SANITIZED:  # apart from the files of a plain run going on at the same time
    WORK_DIR = os.path.join(WORK_DIR, "asan")

SYSTEM_PYTHON = "/usr/bin/python3.11"
TIMEOUT = 60  # seconds per pyrace invocation
EXIT_OK = 0
EXIT_USAGE = 1
EXIT_SETUP = 2
EXIT_RACES = 66
RACE_KINDS = ("write-write", "read-write", "write-read")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
STDERR_LINES_SHOWN = 80


class CaseFailure(Exception):
    """A test case's expectations were not met; args[0] is a list of problems."""


# --- running commands ------------------------------------------------------------


class Result:
    def __init__(self, cmd, returncode, stdout, stderr, timed_out):
        self.cmd = cmd
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.timed_out = timed_out
        if SANITIZED and any(m in stderr for m in SANITIZER_MARKERS):
            SANITIZER_STDERR.append(describe(self))


# --- sanitizer reports (PYRACE_SANITIZED=1) -----------------------------------------
# ASan and LSan write their reports to files in SANITIZER_LOG_DIR (also when a case does not
# look at the exit status or stderr); UBSan, which ignores log_path, to stderr; both abort.

SANITIZER_LOG_DIR = None
SANITIZER_STDERR = []  # describe() of each run() whose stderr holds a sanitizer report
SANITIZER_SEEN = set()  # report files already charged to a case
LSAN_SUPPRESSIONS = os.path.join(ROOT, "tests", "lsan.supp")  # leaks in libraries, not ours


def setup_sanitizers():
    """Options for the sanitized binary (and the commands it starts), before any case runs;
    ASAN_OPTIONS/UBSAN_OPTIONS/LSAN_OPTIONS given by the caller come last and win."""
    global SANITIZER_LOG_DIR
    SANITIZER_LOG_DIR = tempfile.mkdtemp(prefix="pyrace-sanitizer-")
    os.chmod(SANITIZER_LOG_DIR, 0o1777)  # cases run pyrace as nobody too
    defaults = {
        "ASAN_OPTIONS": "detect_leaks=1:detect_stack_use_after_return=1:abort_on_error=1:"
                        "disable_coredump=1:log_path=%s"
                        % os.path.join(SANITIZER_LOG_DIR, "asan"),
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:abort_on_error=1",
    }
    if os.path.exists(LSAN_SUPPRESSIONS):
        defaults["LSAN_OPTIONS"] = "suppressions=%s" % LSAN_SUPPRESSIONS
    for name, value in defaults.items():
        given = os.environ.get(name)
        os.environ[name] = value + (":" + given if given else "")


def case_sanitized_binary():
    """PYRACE_SANITIZED=1 with a plain binary would check nothing: refuse it."""
    with open(PYRACE, "rb") as f:
        binary = f.read()
    missing = [name for name, symbol in (("ASan", b"__asan_report_"), ("UBSan", b"__ubsan_handle_"))
               if symbol not in binary]
    if missing:
        raise CaseFailure(["%s is not instrumented with %s" % (PYRACE, " and ".join(missing))])


def sanitizer_problems():
    """Lines describing the sanitizer reports written since the last call (empty: none)."""
    problems = []
    while SANITIZER_STDERR:
        problems += ["sanitizer report on stderr:"] + SANITIZER_STDERR.pop(0)
    for name in sorted(os.listdir(SANITIZER_LOG_DIR)):
        if name in SANITIZER_SEEN:
            continue
        SANITIZER_SEEN.add(name)
        with open(os.path.join(SANITIZER_LOG_DIR, name), errors="replace") as f:
            lines = f.read().rstrip("\n").split("\n")
        problems.append("sanitizer report %s:" % name)
        problems.extend("  | " + line for line in lines[:STDERR_LINES_SHOWN])
    return problems


def run(cmd, timeout=TIMEOUT):
    """Run cmd in ROOT; on timeout kill its whole process group."""
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            universal_newlines=True,
            errors="replace",
        )
    except OSError as exc:
        return Result(cmd, None, "", "cannot execute %s: %s" % (cmd[0], exc), False)
    try:
        out, err = proc.communicate(timeout=timeout)
        return Result(cmd, proc.returncode, out, err, False)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # something outside the group holds the pipes
            proc.kill()
            out, err = "", ""
        return Result(cmd, proc.returncode, out, err, True)


def describe(result):
    """Lines that help debug a failed command."""
    lines = ["command: %s" % " ".join(shlex.quote(c) for c in result.cmd)]
    if result.timed_out:
        lines.append("timed out after %d s (killed)" % TIMEOUT)
    else:
        lines.append("exit status: %s" % result.returncode)
    err = result.stderr.rstrip("\n").split("\n") if result.stderr.strip() else []
    if not err:
        lines.append("stderr: (empty)")
    else:
        lines.append("stderr:")
        if len(err) > STDERR_LINES_SHOWN:
            lines.append("  ... (%d earlier lines not shown)" % (len(err) - STDERR_LINES_SHOWN))
            err = err[-STDERR_LINES_SHOWN:]
        lines.extend("  | " + line for line in err)
    return lines


def single_line(text):
    """The stderr text as one line, or None unless it is exactly one non-empty line."""
    lines = text.rstrip("\n").split("\n")
    if len(lines) == 1 and lines[0].strip():
        return lines[0]
    return None


# --- corpus programs -------------------------------------------------------------


def header_lines(program):
    """The bodies of a program's leading comment lines (after `#`), shebang left out."""
    with open(os.path.join(ROOT, program), encoding="utf-8") as f:
        text = f.read()
    for number, line in enumerate(text.splitlines()):
        if number == 0 and line.startswith("#!"):
            continue
        if not line.startswith("#"):
            break  # the header is the leading block of comment lines
        yield line[1:].strip()


def parse_options(program):
    """The pyrace options of a program's `# options:` header line (e.g. --global-reads)."""
    for body in header_lines(program):
        if body.startswith("options:"):
            return body[len("options:"):].split()
    return []


def refused_mode(result, options):
    """--global-reads under an interpreter without USDT probes: refused in one line, exit 2."""
    line = single_line(result.stderr)
    return ("--global-reads" in options and result.returncode == EXIT_SETUP and line is not None
            and "--global-reads is not possible" in line)


def parse_expect_deadlocks(program):
    """The cycles a program's `# expect-deadlock:` lines name, each a frozenset of lock names."""
    expected = set()
    for body in header_lines(program):
        if not body.startswith("expect-deadlock:"):
            continue
        locks = body[len("expect-deadlock:"):].split()
        if len(locks) < 2:
            raise CaseFailure(["%s: '# expect-deadlock:' needs two locks or more" % program])
        expected.add(frozenset(locks))
    return expected


def parse_expect_predict(program):
    """The variables `# expect-predict:` lines name: races that only --predict reports (this run
    ordered them through a lock whose critical sections share no variable)."""
    expected = set()
    for body in header_lines(program):
        if body.startswith("expect-predict:"):
            value = body[len("expect-predict:"):].strip()
            if not value:
                raise CaseFailure(["%s: empty '# expect-predict:' line" % program])
            expected.add(value)
    return expected


def predict_problems(program, trace, expected):
    """`pyrace analyze --predict` on the program's trace: the races of the default mode plus
    those of `# expect-predict:`, the latter (only) marked predicted."""
    extra = parse_expect_predict(program)
    json_path = trace + ".predict.json"
    result = run([PYRACE, "analyze", "--predict", "--json", json_path, trace])
    want = expected | extra
    problems = []
    if result.returncode != (EXIT_RACES if want or parse_expect_deadlocks(program) else EXIT_OK):
        problems.append("--predict: exit status %s" % result.returncode)
    try:
        with open(os.path.join(ROOT, json_path)) as f:
            races = json.load(f)["races"]
        os.remove(os.path.join(ROOT, json_path))
    except (OSError, ValueError, KeyError) as exc:
        return problems + ["--predict: no usable report: %s" % exc]
    got = {variable_name(r["variable"]) for r in races}
    if got != want:
        problems.append("--predict: reported %s, expected %s" % (format_set(got), format_set(want)))
    for r in races:
        name = variable_name(r["variable"])
        if name in extra and name not in expected and not all(
                x.get("predicted") for x in races if variable_name(x["variable"]) == name):
            problems.append("--predict: %s not marked predicted" % name)
        if name in expected and r.get("predicted") and not any(
                not x.get("predicted") for x in races if variable_name(x["variable"]) == name):
            problems.append("--predict: %s marked predicted, but the default mode reports it" % name)
    return problems


def interpreter_minor(interpreter):
    """"3.13" from an interpreter's file name (python3.13), "3.13t" for a free-threaded build
    (python3.13t), or None."""
    match = re.search(r"python(\d+\.\d+t?)", os.path.basename(os.path.realpath(interpreter)))
    return match.group(1) if match else None


def parse_expect(program, interpreter=None):
    """The set of variables a program's `# expect:` header lines name (empty for `none`).
    `# expect-X.Y:` lines (3.13, 3.14, ...) replace them under that version: what it cannot
    show, with why in parentheses; `# expect-3.13t:` lines under the free-threaded build, which
    otherwise takes 3.13's."""
    expected = set()
    saw_none = False
    saw_any = False
    tag = "expect:"
    minor = interpreter_minor(interpreter) if interpreter else None
    for version in ([minor, minor.rstrip("t")] if minor else []):
        if any(b.startswith("expect-%s:" % version) for b in header_lines(program)):
            tag = "expect-%s:" % version
            break
    for body in header_lines(program):
        if not body.startswith(tag):
            continue
        value = body[len(tag):].strip()
        if tag != "expect:":
            if "(" not in value or not value.endswith(")"):
                raise CaseFailure(["%s: '# %s' without its reason in parentheses" % (program, tag)])
            value = value[:value.index("(")].strip()  # the reason, in parentheses
        saw_any = True
        if value == "none":
            saw_none = True
        elif value:
            expected.add(value)
        else:
            raise CaseFailure(["%s: empty '# expect:' line" % program])
    if not saw_any:
        raise CaseFailure(["%s: no '# expect:' header line" % program])
    if saw_none and expected:
        raise CaseFailure(["%s: '# expect: none' together with variables" % program])
    return expected


def variable_name(variable):
    """module.NAME, module.NAME['key'], module.NAME[3] or module.NAME[*]; a list is
    module.NAME, a set module.NAME{'x'}, module.NAME{3} or module.NAME{*}."""
    if not isinstance(variable, dict):
        raise ValueError("variable is not an object: %r" % (variable,))
    module = variable.get("module")
    name = variable.get("name")
    container = variable.get("container")
    if not isinstance(module, str) or not module or not isinstance(name, str) or not name:
        raise ValueError("variable without module/name: %r" % (variable,))
    base = "%s.%s" % (module, name)
    key = variable.get("key")
    if container == "global":
        if key is not None:
            raise ValueError("global variable with a key: %r" % (variable,))
        return base
    if container == "list":
        if key is not None:
            raise ValueError("list variable with a key: %r" % (variable,))
        return base
    if container == "set":
        if key is None:
            return base + "{*}"
        if not isinstance(key, str) or not isinstance(variable.get("key_type"), str):
            raise ValueError("set element without text or key_type: %r" % (variable,))
        return base + ("{'%s'}" % key if variable["key_type"] == "str" else "{%s}" % key)
    if container != "dict":
        raise ValueError("unknown container %r in %r" % (container, variable))
    if key is None:
        return base + "[*]"
    if not isinstance(key, str):
        raise ValueError("key is not text: %r" % (variable,))
    key_type = variable.get("key_type")
    if not isinstance(key_type, str) or not key_type:
        raise ValueError("dict key without key_type: %r" % (variable,))
    if key_type == "str":
        return "%s['%s']" % (base, key)
    return "%s[%s]" % (base, key)


def is_code_line(line):
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def check_stack(label, access, program, source_lines):
    """Problems with one side (`current`/`previous`) of a race."""
    if not isinstance(access, dict):
        return ["%s: missing or not an object" % label]
    stack = access.get("stack")
    if not isinstance(stack, list) or not stack:
        return ["%s.stack is empty or missing" % label]
    frame = stack[0]
    if not isinstance(frame, dict):
        return ["%s.stack[0] is not an object: %r" % (label, frame)]
    problems = []
    for field in ("file", "function", "line"):
        if field not in frame:
            problems.append("%s.stack[0] has no %r" % (label, field))
    if problems:
        return problems
    where = "%s.stack[0] = %s:%s in %s" % (label, frame["file"], frame["line"], frame["function"])
    if not isinstance(frame["function"], str) or not frame["function"]:
        problems.append("%s: empty function name" % where)
    path = frame["file"]
    if not isinstance(path, str) or not path:
        return problems + ["%s: empty file name" % where]
    if os.path.realpath(os.path.join(ROOT, path)) != os.path.realpath(os.path.join(ROOT, program)):
        problems.append("%s: innermost frame is not in %s" % (where, program))
        return problems
    line = frame["line"]
    if not isinstance(line, int) or isinstance(line, bool) or line <= 0:
        problems.append("%s: line is not a positive integer" % where)
    elif line > len(source_lines):
        problems.append("%s: line is past the end of the file (%d lines)" % (where, len(source_lines)))
    elif not is_code_line(source_lines[line - 1]):
        problems.append("%s: line %d holds no code: %r" % (where, line, source_lines[line - 1]))
    return problems


def pop_op_problems(label, access, program, source_lines):
    """A dict access on a program line that calls .pop() must be the pop (or a read before it):
    not recorded as another kind of write."""
    try:
        frame = access["stack"][0]
        if os.path.realpath(os.path.join(ROOT, frame["file"])) != \
                os.path.realpath(os.path.join(ROOT, program)):
            return []
        text = source_lines[frame["line"] - 1]
    except (KeyError, IndexError, TypeError):
        return []  # check_stack reports these
    if ".pop(" in text and access.get("op") not in ("pop", "read"):
        return ["%s: op %r on a line that pops: %r" % (label, access.get("op"), text.strip())]
    return []


def check_report(path, program):
    """(names of the reported variables, problems) from pyrace's JSON report."""
    try:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            report = json.load(f)
    except FileNotFoundError:
        return None, ["no JSON report was written to %s" % path]
    except (OSError, ValueError) as exc:
        return None, ["JSON report %s does not parse: %s" % (path, exc)]
    if not isinstance(report, dict):
        return None, ["JSON report is not an object"]
    problems = []
    stats = report.get("stats")
    if not isinstance(stats, dict) or "lost_events" not in stats:
        problems.append("stats.lost_events is missing")
    elif stats["lost_events"] != 0:
        problems.append("stats.lost_events = %r, expected 0" % (stats["lost_events"],))
    races = report.get("races")
    if not isinstance(races, list):
        return None, problems + ["races is missing or not a list"]
    with open(os.path.join(ROOT, program), encoding="utf-8") as f:
        source_lines = f.read().splitlines()
    names = []
    for index, race in enumerate(races):
        if not isinstance(race, dict):
            problems.append("races[%d] is not an object" % index)
            continue
        try:
            name = variable_name(race.get("variable"))
        except ValueError as exc:
            problems.append("races[%d]: %s" % (index, exc))
            continue
        names.append(name)
        if race.get("kind") not in RACE_KINDS:
            problems.append("%s: kind %r is not one of %s" % (name, race.get("kind"), ", ".join(RACE_KINDS)))
        occurrences = race.get("occurrences")
        if not isinstance(occurrences, int) or isinstance(occurrences, bool) or occurrences < 1:
            problems.append("%s: occurrences = %r, expected an integer >= 1" % (name, occurrences))
        for side in ("current", "previous"):
            for problem in check_stack(side, race.get(side), program, source_lines):
                problems.append("%s: %s" % (name, problem))
            if isinstance(race.get("variable"), dict) and race["variable"].get("container") == "dict":
                for problem in pop_op_problems(side, race.get(side), program, source_lines):
                    problems.append("%s: %s" % (name, problem))
    # one variable may appear once per distinct pair of source locations: that is the dedup rule
    return set(names), problems


def check_deadlocks(path, program):
    """(cycles reported, each a frozenset of lock names; problems) from the JSON report."""
    try:
        with open(os.path.join(ROOT, path), encoding="utf-8") as f:
            deadlocks = json.load(f).get("deadlocks")
    except (OSError, ValueError, AttributeError):
        return None, []  # check_report says what is wrong with the file
    if not isinstance(deadlocks, list):
        return None, ["deadlocks is missing or not a list"]
    with open(os.path.join(ROOT, program), encoding="utf-8") as f:
        source_lines = f.read().splitlines()
    cycles, problems = set(), []
    for index, d in enumerate(deadlocks):
        locks = d.get("locks") if isinstance(d, dict) else None
        if not isinstance(locks, list) or len(locks) < 2 or not all(isinstance(l, str) for l in locks):
            problems.append("deadlocks[%d]: locks is not a list of two names or more" % index)
            continue
        name = " => ".join(locks)
        cycles.add(frozenset(locks))
        ident = d.get("id")
        if not isinstance(ident, str) or len(ident) != 16 or any(c not in "0123456789abcdef" for c in ident):
            problems.append("%s: id %r is not 16 hex digits" % (name, ident))
        occurrences = d.get("occurrences")
        if not isinstance(occurrences, int) or isinstance(occurrences, bool) or occurrences < 1:
            problems.append("%s: occurrences = %r, expected an integer >= 1" % (name, occurrences))
        edges = d.get("edges")
        if not isinstance(edges, list) or len(edges) != len(locks):
            problems.append("%s: expected one edge per lock" % name)
            continue
        threads = set()
        for i, edge in enumerate(edges):
            if not isinstance(edge, dict):
                problems.append("%s: edges[%d] is not an object" % (name, i))
                continue
            if (edge.get("held"), edge.get("acquired")) != (locks[i], locks[(i + 1) % len(locks)]):
                problems.append("%s: edges[%d] goes %r -> %r" % (name, i, edge.get("held"), edge.get("acquired")))
            threads.add((edge.get("thread") or {}).get("tid"))
            for side in ("held_stack", "acquired_stack"):
                access = {"stack": edge.get(side)}
                for problem in check_stack("edges[%d].%s" % (i, side), access, program, source_lines):
                    problems.append("%s: %s" % (name, problem.replace(".stack", "")))
        if len(threads) != len(edges):
            problems.append("%s: the edges are not from one thread each" % name)
    return cycles, problems


def format_cycles(cycles):
    return "; ".join(sorted(" ".join(sorted(c)) for c in cycles)) if cycles else "(none)"


def format_set(names):
    return ", ".join(sorted(names)) if names else "(none)"


def tag(interpreter):
    return interpreter.strip("/").replace("/", "_")


def chroot_of(interpreter):
    """The root of the chroot an interpreter belongs to (tests/interpreters/setup.sh builds them
    under INTERP_CACHE), or None. Such an interpreter runs only inside it: its C library is
    newer than the host's."""
    cache = os.path.realpath(INTERP_CACHE) + os.sep
    path = os.path.realpath(interpreter)
    if not path.startswith(cache) or os.sep not in path[len(cache):]:
        return None
    return cache + path[len(cache):].split(os.sep)[0]  # CACHE/NAME: trixie, sid, trixie-ft


def program_command(program, interpreter):
    """The command that runs a corpus program. Under a chroot's interpreter the program is
    copied into the chroot at its own absolute path, so that the report names the same file."""
    root = chroot_of(interpreter)
    if root is None:
        return [interpreter, program]
    source = os.path.join(ROOT, program)
    inside = os.path.join(root, source.lstrip(os.sep))
    os.makedirs(os.path.dirname(inside), exist_ok=True)
    shutil.copyfile(source, inside)
    return ["chroot", root, os.path.realpath(interpreter)[len(root):], source]


def program_case(program, interpreter):
    def case():
        expected = parse_expect(program, interpreter)
        expected_deadlocks = parse_expect_deadlocks(program)
        if not os.access(interpreter, os.X_OK):
            raise CaseFailure(["interpreter %s not found or not executable" % interpreter])
        json_path = os.path.join(WORK_DIR, "%s.%s.json" % (os.path.basename(program)[:-3], tag(interpreter)))
        try:
            os.remove(os.path.join(ROOT, json_path))
        except FileNotFoundError:
            pass
        trace = json_path[:-5] + ".trace"
        options = parse_options(program)
        result = run([PYRACE, "run"] + options + ["-o", trace, "--json", json_path, "--"]
                     + program_command(program, interpreter))
        if options and interpreter != SYSTEM_PYTHON and refused_mode(result, options):
            return
        problems = []
        want_status = EXIT_RACES if expected or expected_deadlocks else EXIT_OK
        if result.timed_out:
            problems.append("pyrace did not finish within %d s" % TIMEOUT)
        elif result.returncode != want_status:
            problems.append("exit status %s, expected %d" % (result.returncode, want_status))
        got = None
        if not result.timed_out:
            got, report_problems = check_report(json_path, program)
            problems.extend(report_problems)
        if got is not None and got != expected:
            problems.append("reported variables differ from the expected ones")
            if expected - got:
                problems.append("  missing:    %s" % format_set(expected - got))
            if got - expected:
                problems.append("  unexpected: %s" % format_set(got - expected))
        cycles = None
        if not result.timed_out:
            cycles, deadlock_problems = check_deadlocks(json_path, program)
            problems.extend(deadlock_problems)
        if cycles is not None and cycles != expected_deadlocks:
            problems.append("reported deadlocks differ from the expected ones")
            if expected_deadlocks - cycles:
                problems.append("  missing:    %s" % format_cycles(expected_deadlocks - cycles))
            if cycles - expected_deadlocks:
                problems.append("  unexpected: %s" % format_cycles(cycles - expected_deadlocks))
        if not result.timed_out and os.path.exists(os.path.join(ROOT, trace)):
            problems.extend(predict_problems(program, trace, expected))
        if problems:
            details = ["expected: %s" % format_set(expected)]
            details.append("reported: %s" % (format_set(got) if got is not None else "(no usable report)"))
            details.append("expected deadlocks: %s" % format_cycles(expected_deadlocks))
            details.append("reported deadlocks: %s" %
                           (format_cycles(cycles) if cycles is not None else "(no usable report)"))
            details.extend(problems)
            if os.path.exists(os.path.join(ROOT, json_path)):
                details.append("report kept in %s" % json_path)
            details.extend(describe(result))
            raise CaseFailure(details)
        os.remove(os.path.join(ROOT, json_path))
        os.remove(os.path.join(ROOT, trace))

    return "%s [%s]" % (program, interpreter), case


# --- bad input ------------------------------------------------------------------


def expect_status(result, status):
    if result.timed_out:
        return ["pyrace did not finish within %d s" % TIMEOUT]
    if result.returncode != status:
        return ["exit status %s, expected %d" % (result.returncode, status)]
    return []


def finish(result, problems):
    if problems:
        raise CaseFailure(problems + describe(result))


def case_no_arguments():
    result = run([PYRACE])
    finish(result, expect_status(result, EXIT_USAGE))


def case_run_without_command():
    result = run([PYRACE, "run"])
    finish(result, expect_status(result, EXIT_USAGE))


def case_command_not_found():
    result = run([PYRACE, "run", "--", "/nonexistent/cmd"])
    problems = expect_status(result, EXIT_USAGE)
    line = single_line(result.stderr)
    if line is None:
        problems.append("stderr is not exactly one line")
    elif "not found" not in line.lower():
        problems.append("stderr does not say 'not found'")
    finish(result, problems)


def case_not_cpython():
    marker = os.path.join(WORK_DIR, "not-cpython.ran")
    marker_abs = os.path.join(ROOT, marker)
    try:
        os.remove(marker_abs)
    except FileNotFoundError:
        pass
    result = run([PYRACE, "run", "--", "sh", "-c", "echo ran > %s" % shlex.quote(marker_abs)])
    problems = expect_status(result, EXIT_SETUP)
    if not os.path.exists(marker_abs):
        problems.append("the command did not run (%s was not created)" % marker)
    else:
        os.remove(marker_abs)
    if "not a cpython" not in result.stderr.lower():
        problems.append("stderr does not mention 'not a CPython'")
    finish(result, problems)


def case_not_root():
    # A copy in a world-readable directory: the checkout itself may be private to root.
    tmp = tempfile.mkdtemp(prefix="pyrace-nobody-")
    os.chmod(tmp, 0o755)
    binary = os.path.join(tmp, "pyrace")
    shutil.copy(PYRACE, binary)
    os.chmod(binary, 0o755)
    cmd = [binary, "run", "--", "python3", "-c", "pass"]
    if os.geteuid() == 0:
        cmd = NOBODY + cmd
    try:
        result = run(cmd)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    problems = expect_status(result, EXIT_USAGE)
    if result.returncode in (126, 127):
        problems.append("(user nobody may be unable to execute %s in %s)" % (PYRACE, ROOT))
    line = single_line(result.stderr)
    if line is None:
        problems.append("stderr is not exactly one line")
    elif "root" not in line.lower():
        problems.append("stderr does not mention root")
    finish(result, problems)


def case_missing_debug_info():
    result = run([PYRACE, "run", "--debug-dir", "/nonexistent", "--", SYSTEM_PYTHON, "-c", "pass"])
    problems = expect_status(result, EXIT_SETUP)
    if "python3.11-dbg" not in result.stderr:
        problems.append("stderr does not name the package python3.11-dbg")
    finish(result, problems)


def _variables(report):
    return sorted("%s.%s%s" % (r["variable"]["module"], r["variable"]["name"],
                               "" if r["variable"]["container"] == "global"
                               else "[%r]" % r["variable"].get("key", "*"))
                  for r in report["races"])


def case_record_then_analyze():
    """record writes a private trace; analyze finds the same races, even as an unprivileged user,
    and a trace cut anywhere still yields the races recorded before the cut."""
    work = tempfile.mkdtemp(prefix="pyrace-trace-")
    os.chmod(work, 0o755)
    try:
        trace = os.path.join(work, "t.trace")
        program = os.path.join("tests", "corpus", "racy_unlocked_write.py")
        result = run([PYRACE, "record", "-o", trace, "--", SYSTEM_PYTHON, program])
        problems = expect_status(result, EXIT_OK)
        if not os.path.exists(trace):
            finish(result, problems + ["no trace written"])
        mode = os.stat(trace).st_mode & 0o777
        if mode != 0o600:
            problems.append("trace mode is %o, expected 600" % mode)
        full_json = os.path.join(work, "full.json")
        result = run([PYRACE, "analyze", "--json", full_json, trace])
        problems += expect_status(result, EXIT_RACES)
        with open(full_json) as f:
            full = json.load(f)
        if _variables(full) != ["__main__.CACHE['a']"]:
            problems.append("analyze reported %s" % _variables(full))
        if full["target"]["python"]["executable"] != SYSTEM_PYTHON:
            problems.append("target executable is %r" % full["target"]["python"]["executable"])
        finish(result, problems)

        # readable by anyone given the file: analyze needs no privileges
        shared = os.path.join(work, "shared.trace")
        shutil.copy(trace, shared)
        os.chmod(shared, 0o644)
        binary = os.path.join(work, "pyrace")
        shutil.copy(PYRACE, binary)
        os.chmod(binary, 0o755)
        cmd = [binary, "analyze", shared]
        if os.geteuid() == 0:
            cmd = NOBODY + cmd
        result = run(cmd)
        finish(result, expect_status(result, EXIT_RACES))

        # cut the trace: the races seen before the cut survive, with a warning
        size = os.path.getsize(trace)
        cut = os.path.join(work, "cut.trace")
        with open(trace, "rb") as f:
            data = f.read()
        with open(cut, "wb") as f:
            f.write(data[: size - 7])
        cut_json = os.path.join(work, "cut.json")
        result = run([PYRACE, "analyze", "--json", cut_json, cut])
        problems = expect_status(result, EXIT_RACES)
        if "warning" not in result.stderr or "truncated" not in result.stderr:
            problems.append("no truncation warning on stderr")
        with open(cut_json) as f:
            partial = json.load(f)
        if _variables(partial) != _variables(full):
            problems.append("cut trace reported %s" % _variables(partial))
        if not partial["stats"]["ended_early"]:
            problems.append("stats.ended_early is false for a cut trace")
        finish(result, problems)

        # garbage is refused in one line
        garbage = os.path.join(work, "garbage.trace")
        with open(garbage, "wb") as f:
            f.write(b"this is not a trace at all\n")
        result = run([PYRACE, "analyze", garbage])
        problems = expect_status(result, EXIT_USAGE)
        line = single_line(result.stderr)
        if line is None or "not a pyrace trace" not in line:
            problems.append("expected one line saying it is not a pyrace trace")
        finish(result, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def case_doctor():
    """doctor lists every probe point of an interpreter as found, and names what is missing."""
    problems = []
    for interp in [i for i in interpreters(None) if chroot_of(i) is None]:  # 3.11: the chroots below
        result = run([PYRACE, "doctor", "--python", interp])
        problems += expect_status(result, EXIT_OK)
        rows = [l for l in result.stdout.splitlines()
                if l.strip().endswith(("ok", "ok (return)", "MISSING", "(not traced yet)"))]
        table = [l for l in rows if "0x" in l or "MISSING" in l]
        if len(table) < 30 or any("MISSING" in l for l in table):
            problems.append("%s: expected at least 30 probe rows, all found:\n%s" % (interp, result.stdout))
        if "3.11" not in result.stdout:
            problems.append("%s: version not shown" % interp)
        if "pyrace run: can trace this interpreter" not in result.stdout:
            problems.append("%s: the verdict line is missing" % interp)
    finish(result, problems)
    result = run([PYRACE, "doctor", "--python", SYSTEM_PYTHON, "--debug-dir", "/nonexistent"])
    problems = expect_status(result, EXIT_SETUP)
    if "MISSING" not in result.stdout or "python3.11-dbg" not in result.stdout:
        problems.append("missing probes and the package providing them are not shown")
    if "PyDict_Clear" not in result.stdout or "dynsym" not in result.stdout:
        problems.append("exported functions are not shown as found in dynsym")
    finish(result, problems)
    case_doctor_new_versions()


# Debian's 3.13 and 3.14 (tests/interpreters/setup.sh): what doctor must show of each, from
# docs/interpreters.md. The chroots are used when built (setup.sh then only prints their
# paths, in well under a second); PYRACE_BUILD_INTERPRETERS=1 builds them first (minutes).
NEW_VERSIONS = {
    "trixie": {"minor": "3.13", "insertdict": "insertdict.lto_priv.0", "mp": "mp=rsi",
               "clones": ["_Py_Finalize.constprop.0", "pop_lock_held.lto_priv.0"],
               # §8: lock.acquire() inlined into method calls, probed where it starts and ends
               "inlined": [("lock_PyThread_acquire_lock.lto_priv.0",
                            "method_vectorcall_VARARGS_KEYWORDS.lto_priv.0+448 ")],
               "inline_rows": [("method_vectorcall_VARARGS_KEYWORDS.lto_priv.0+448", "self=r12",
                                "ok (inlined entry)"),
                               ("method_vectorcall_VARARGS_KEYWORDS.lto_priv.0+623", "result=r15",
                                "ok (inlined exit)"),
                               ("_weakref__remove_dead_weakref.lto_priv.0+55", "op=rbp",
                                "ok (inlined entry)"),
                               # §11: x in S, _PySet_Contains inlined into the eval loop
                               ("_PyEval_EvalFrameDefault+15067", "so=r13 key=r12",
                                "ok (inlined entry)")]},
    "sid": {"minor": "3.14", "insertdict": "insertdict.isra.0", "mp": "mp=rdi",
            "clones": ["dict_dict_merge.constprop.0.isra.0", "dict_dict_merge.constprop.1.isra.0",
                       "pop_lock_held.constprop.0"],
            # §10: lock.release() inlined into cfunction_call (its lock through the called
            # method object), dict.get() into method_vectorcall_FASTCALL
            "inlined": [("lock_PyThread_release_lock.lto_priv.0", "cfunction_call.lto_priv.0+1042 "),
                        ("dict_get.lto_priv.0", "method_vectorcall_FASTCALL.lto_priv.0+129 ")],
            "inline_rows": [("cfunction_call.lto_priv.0+1042", "func=rdi",
                             "ok (inlined entry, func's self)"),
                            ("method_vectorcall_FASTCALL.lto_priv.0+129", "self=r9 args=r8+8",
                             "ok (inlined entry)"),
                            ("_weakref__remove_dead_weakref.lto_priv.0+60", "op=rbx key=r12",
                             "ok (inlined entry)"),
                            # §11: a warm append's growth, in the eval loop
                            ("_PyEval_EvalFrameDefault.cold+83084", "self=rcx",
                             "ok (inlined entry)")]},
}
INTERP_CACHE = os.environ.get("PYRACE_INTERP_CACHE", "/var/cache/pyrace-interpreters")


def new_version_interpreters():
    """{suite: (path, version)} of the chroot interpreters, {} when they are not built."""
    built = all(os.path.exists(os.path.join(INTERP_CACHE, suite + ".stamp")) for suite in NEW_VERSIONS)
    if not built and os.environ.get("PYRACE_BUILD_INTERPRETERS") != "1":
        return {}
    found = {}
    for suite in sorted(NEW_VERSIONS):  # one by one: setup.sh alone would build 3.13t too
        result = run(["tests/interpreters/setup.sh", "--only", suite], timeout=1800)
        if result.returncode != 0:
            raise CaseFailure(["tests/interpreters/setup.sh failed"] + describe(result))
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] in NEW_VERSIONS:
                found[parts[0]] = (parts[1], parts[2])
    return found


def doctor_row(stdout, symbol):
    """The doctor's table row of `symbol` (entry probe), or ""."""
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) > 3 and symbol in fields and "return" not in line:
            return line
    return ""


def case_doctor_new_versions():
    problems, result = [], None
    for suite, (python, version) in sorted(new_version_interpreters().items()):
        want = NEW_VERSIONS[suite]
        if not version.startswith(want["minor"] + "."):
            problems.append("%s: setup.sh says version %s" % (python, version))
        result = run([PYRACE, "doctor", "--python", python])
        out = result.stdout
        problems += ["%s: %s" % (python, p) for p in expect_status(result, EXIT_OK)]
        if "version     %s " % version not in out:
            problems.append("%s: version %s not shown" % (python, version))
        if "flavour     release (_Py_DebugOffsets: version 0x" not in out:
            problems.append("%s: flavour release from _Py_DebugOffsets not shown" % python)
        if "/%s/usr/lib/debug/.build-id/" % suite not in out:
            problems.append("%s: the chroot's debug file was not found" % python)
        row = doctor_row(out, want["insertdict"])
        if not row or want["mp"] not in row or not row.rstrip().endswith("ok"):
            problems.append("%s: insertdict row wrong: %r" % (python, row))
        for clone in want["clones"]:
            if not doctor_row(out, clone):
                problems.append("%s: no probe row for %s" % (python, clone))
        debug_build = python + "d"
        if os.path.exists(debug_build):
            debug = run([PYRACE, "doctor", "--python", debug_build])
            if "flavour     Py_DEBUG" not in debug.stdout or "debug build (Py_DEBUG)" not in debug.stdout:
                problems.append("%s: not shown as a Py_DEBUG build" % debug_build)
        for function, where in want["inlined"]:
            row = doctor_row(out, function)
            inl = row.split("inlined x")[-1].split()[0] if "inlined x" in row else "0"
            if not inl.isdigit() or int(inl) < 1 or "(probed)" not in row:
                problems.append("%s: %s not shown inlined xN>=1, probed: %r" % (python, function, row))
            if "inlined in " + where not in out:
                problems.append("%s: the inlined copy of %s at %s is not shown" % (python, function, where))
        for symbol, args, status in want["inline_rows"]:
            if not any(symbol in l.split() and args in l and l.rstrip().endswith(status)
                       for l in out.splitlines()):
                problems.append("%s: no probe row %s %s ... %s" % (python, symbol, args, status))
        if "pyrace run: can trace this interpreter" not in out:
            problems.append("%s: the verdict line does not say it can be traced" % python)
        if "missing:" in out:
            problems.append("%s: the doctor says something is missing" % python)
        chroot_dir = python[:python.index("/usr/bin/")]
        inside = python[len(chroot_dir):]
        result = run([PYRACE, "run", "--", "chroot", chroot_dir, inside, "-c", "print('ran traced')"])
        problems += ["%s: run in the chroot: %s" % (python, p) for p in expect_status(result, EXIT_OK)]
        if "ran traced" not in result.stdout or "no races found" not in result.stderr:
            problems.append("%s: the chroot's interpreter was not traced" % python)
    if problems:
        raise CaseFailure(problems + (describe(result) if result else []))


def case_doctor_free_threaded():
    """doctor on the free-threaded 3.13t (setup.sh's trixie-ft, when built): its flavour, the
    layout read from its DWARF, every probe placed, the copies of PyDict_DelItem inlined into
    dict_ass_sub probed; pyrace run traces it in its chroot."""
    python = free_threaded_interpreter()
    if python is None:
        if _free_threaded_build:  # asked for and not built
            raise CaseFailure(["tests/interpreters/setup.sh --only %s failed" % FREE_THREADED]
                              + describe(_free_threaded_build[0]))
        return
    result = run([PYRACE, "doctor", "--python", python])
    out = result.stdout
    problems = expect_status(result, EXIT_OK)
    if "flavour     free-threaded (_Py_DebugOffsets: version 0x030d" not in out:
        problems.append("the free-threaded flavour from _Py_DebugOffsets is not shown")
    if "layout      32 offsets from _Py_DebugOffsets, 19 from DWARF" not in out:
        problems.append("the layout is not said to come from _Py_DebugOffsets and DWARF")
    if "_queue.cpython-313t-x86_64-linux-gnu.so" not in out:
        problems.append("the 3.13t _queue extension was not found")
    for symbol, args in (("insertdict", "mp=rsi"), ("_Py_dict_lookup_threadsafe", "mp=rdi"),
                         ("PyDict_Pop", "op=rdi"), ("_PyEvent_Notify", "evt=rdi"),
                         ("lock_PyThread_acquire_lock", "self=rdi"), ("thread_run", "boot_raw=rdi")):
        row = doctor_row(out, symbol)
        if not row or args not in row or not row.rstrip().endswith("ok"):
            problems.append("%s row wrong: %r" % (symbol, row))
    if not any("dict_ass_sub+" in l and l.rstrip().endswith("ok (inlined entry)")
               for l in out.splitlines()):
        problems.append("no probe on PyDict_DelItem's copy inlined into dict_ass_sub")
    if "MISSING" in out:
        problems.append("a probe is MISSING")
    if "pyrace run: can trace this interpreter" not in out:
        problems.append("the verdict line does not say it can be traced")
    if problems:
        raise CaseFailure(problems + describe(result))
    root = chroot_of(python)
    result = run([PYRACE, "run", "--", "chroot", root, python[len(root):], "-c",
                  "import sys; print('gil', sys._is_gil_enabled())"])
    problems = expect_status(result, EXIT_OK)
    if "gil False" not in result.stdout or "no races found" not in result.stderr:
        problems.append("the free-threaded interpreter was not traced with its GIL disabled")
    finish(result, problems)


ATTACH_PROGRAM = """\
import threading, time
CACHE = {}
def worker(n):
    end = time.time() + 3
    i = 0
    while time.time() < end:
        CACHE["k%d" % (i % 2)] = n
        i += 1
        time.sleep(0.001)
time.sleep(2)
threads = [threading.Thread(target=worker, args=(n,)) for n in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def case_attach_313():
    """attach to trixie's 3.13 running in its chroot: its modules read from sys.modules, the races
    of threads started after the attach. Nothing to do when the chroot is not built."""
    python = os.path.join(INTERP_CACHE, "trixie", "usr", "bin", "python3.13")
    if not os.path.exists(os.path.join(INTERP_CACHE, "trixie.stamp")) or not os.access(python, os.X_OK):
        return
    attach_in_chroot(python, "attach_313")


def case_attach_314():
    """The same on sid's 3.14, when built."""
    python = os.path.join(INTERP_CACHE, "sid", "usr", "bin", "python3.14")
    if not os.path.exists(os.path.join(INTERP_CACHE, "sid.stamp")) or not os.access(python, os.X_OK):
        return
    attach_in_chroot(python, "attach_314")


def case_attach_313t():
    """The same on the free-threaded 3.13t (setup.sh's trixie-ft), when built."""
    python = free_threaded_interpreter()
    if python is not None:
        attach_in_chroot(python, "attach_313t")


def attach_in_chroot(python, name):
    root = chroot_of(python)
    program = os.path.join(ROOT, WORK_DIR, name + ".py")
    inside = os.path.join(root, program.lstrip(os.sep))
    os.makedirs(os.path.dirname(inside), exist_ok=True)
    for path in (program, inside):  # the report is checked against the host's copy
        with open(path, "w") as f:
            f.write(ATTACH_PROGRAM)
    report = os.path.join(ROOT, WORK_DIR, name + ".json")
    target = subprocess.Popen(["chroot", root, python[len(root):], program])
    try:
        time.sleep(0.3)
        result = run([PYRACE, "attach", "-p", str(target.pid), "--duration", "20", "--json", report])
    finally:
        if target.poll() is None:
            target.kill()
        target.wait()
    problems = expect_status(result, EXIT_RACES)
    minor = interpreter_minor(python).rstrip("t")
    if not re.search(r"attached to \d+ \(.*%s, CPython %s\.\d+\): [1-9]\d* modules"
                     % (re.escape(os.path.basename(python)), re.escape(minor)), result.stderr):
        problems.append("the attach line does not name %s and its modules" % minor)
    if not problems:
        got, report_problems = check_report(report, os.path.relpath(program, ROOT))
        problems += report_problems
        if not got or not got <= {"__main__.CACHE['k0']", "__main__.CACHE['k1']"}:
            problems.append("reported %s, expected races on __main__.CACHE['k0'] and ['k1']" % format_set(got or set()))
    finish(result, problems)
    os.remove(report)


# --- test labs: SARIF, JUnit, suppressions, baselines, diff ---------------------------


TWO_VARIABLES = os.path.join("tests", "corpus", "racy_two_variables.py")
TWO_VARIABLES_RACES = {"__main__.CONFIG['mode']", "__main__.GENERATION"}
SAFE_PROGRAM = os.path.join("tests", "corpus", "safe_single_lock.py")
# The SARIF 2.1.0 JSON schema (as sarif-2.1.0-rtm.5.json) ships in this npm package, whose own
# dependency is Ajv 6, the validator that speaks the schema's draft-04; both come from npm.
SARIF_SCHEMA_PACKAGES = ["@microsoft/jest-sarif@1.0.0-beta.0", "ajv@6"]
SARIF_VALIDATOR_DIR = os.path.join("tests", ".work", "sarif-validator")
SARIF_SCHEMA = os.path.join(SARIF_VALIDATOR_DIR, "node_modules", "@microsoft", "jest-sarif", "lib",
                            "schemas", "sarif-2.1.0-rtm.5.json")
SARIF_VALIDATOR = os.path.join("tests", "integration", "validate_sarif.js")
OUTPUT_OPTIONS = ("--json", "--sarif", "--junit", "--suppressions", "--baseline")
_sarif_install_lock = threading.Lock()


def install_sarif_validator():
    """Problems installing the SARIF schema and Ajv into tests/.work (once; kept across runs)."""
    with _sarif_install_lock:
        if os.path.exists(os.path.join(ROOT, SARIF_SCHEMA)) and \
                os.path.exists(os.path.join(ROOT, SARIF_VALIDATOR_DIR, "node_modules", "ajv", "package.json")):
            return []
        npm, node = shutil.which("npm"), shutil.which("node")
        if not npm or not node:
            return ["node and npm are needed to fetch the SARIF 2.1.0 schema and its validator"]
        os.makedirs(os.path.join(ROOT, SARIF_VALIDATOR_DIR), exist_ok=True)
        result = run([npm, "install", "--prefix", SARIF_VALIDATOR_DIR, "--no-save", "--no-audit", "--no-fund",
                      "--no-package-lock", "--loglevel=error"] + SARIF_SCHEMA_PACKAGES, timeout=300)
        if result.returncode != 0 or not os.path.exists(os.path.join(ROOT, SARIF_SCHEMA)):
            return ["could not install %s from npm" % " ".join(SARIF_SCHEMA_PACKAGES)] + describe(result)
        return []


def sarif_problems(path, races):
    """Problems with a SARIF log: the real schema first, then what it must say of each race
    (`races` are the JSON report's races)."""
    problems = install_sarif_validator()
    if problems:
        return problems
    result = run(["node", SARIF_VALIDATOR, SARIF_VALIDATOR_DIR, path])
    if result.returncode != 0:
        return ["the SARIF log does not validate against the SARIF 2.1.0 schema:"] + \
            ["  " + line for line in (result.stdout + result.stderr).splitlines()[:40]]
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        log = json.load(f)
    run0 = log["runs"][0]
    driver = run0["tool"]["driver"]
    if (driver["name"], driver["version"]) != ("pyrace", "0.1.0") or \
            [r["id"] for r in driver["rules"]] != ["data-race", "lock-order-inversion"]:
        problems.append("unexpected tool.driver: %r" % driver)
    results = [r for r in run0["results"] if r["ruleId"] != "lock-order-inversion"]
    if len(results) != len(races):
        problems.append("%d SARIF results for %d races" % (len(results), len(races)))
    by_id = {r["id"]: r for r in races}
    for res in results:
        race = by_id.get(res.get("partialFingerprints", {}).get("pyraceRaceId/v1"))
        if race is None:
            problems.append("result without the id of a race: %r" % res.get("partialFingerprints"))
            continue
        name = variable_name(race["variable"])
        if res["ruleId"] != "data-race" or res["level"] != "error" or name not in res["message"]["text"]:
            problems.append("%s: ruleId/level/message wrong: %r" % (name, res["message"]))
        top = race["current"]["stack"][0]
        loc = res["locations"][0]["physicalLocation"]
        if loc["artifactLocation"]["uri"] != "file://" + os.path.join(ROOT, TWO_VARIABLES) or \
                loc["region"]["startLine"] != top["line"]:
            problems.append("%s: location %r, expected %s:%s" % (name, loc, top["file"], top["line"]))
        flows = res["codeFlows"][0]["threadFlows"]
        if len(flows) != 2:
            problems.append("%s: %d thread flows, expected 2" % (name, len(flows)))
        for flow, side in zip(flows, ("current", "previous")):
            innermost = flow["locations"][-1]["location"]["logicalLocations"][0]["fullyQualifiedName"]
            if innermost != race[side]["stack"][0]["function"] or \
                    len(flow["locations"]) != len(race[side]["stack"]):
                problems.append("%s: %s thread flow does not end at the innermost frame" % (name, side))
    return problems


def load_json(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return json.load(f)


def private_file_problems(*paths):
    problems = []
    for path in paths:
        mode = os.stat(os.path.join(ROOT, path)).st_mode & 0o777
        if mode != 0o600:
            problems.append("%s has mode %o, expected 600" % (path, mode))
    return problems


def write_text(work, name, text):
    path = os.path.join(work, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def run_two_variables(*options, program=TWO_VARIABLES):
    return run([PYRACE, "run"] + list(options) + ["--", SYSTEM_PYTHON, program])


def labs_case(fn):
    """A case that gets a private scratch directory, removed afterwards."""
    def case():
        work = tempfile.mkdtemp(prefix="pyrace-labs-")
        try:
            fn(work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return case


def junit_problems(path, races):
    import xml.etree.ElementTree as ET
    try:
        suite = ET.parse(os.path.join(ROOT, path)).getroot()
    except ET.ParseError as exc:
        return ["JUnit file does not parse as XML: %s" % exc]
    problems = []
    cases = suite.findall("testcase")
    failures = suite.findall("testcase/failure")
    want_failures = len(races)
    if suite.tag != "testsuite" or suite.get("name") != "pyrace":
        problems.append("root is <%s name=%r>, expected <testsuite name=\"pyrace\">" % (suite.tag, suite.get("name")))
    if suite.get("failures") != str(want_failures) or len(failures) != want_failures:
        problems.append("failures=%r, %d <failure> elements, expected %d" %
                        (suite.get("failures"), len(failures), want_failures))
    if suite.get("tests") != str(len(cases)) or len(cases) != max(1, want_failures):
        problems.append("tests=%r with %d test cases" % (suite.get("tests"), len(cases)))
    for race in races:
        name = variable_name(race["variable"])
        matching = [c for c in cases if c.get("name", "").startswith(name + " at ")]
        if len(matching) != 1:
            problems.append("%s: %d test cases named after it" % (name, len(matching)))
            continue
        failure = matching[0].find("failure")
        if matching[0].get("classname") != race["variable"]["module"] or failure is None or \
                ("Race id: %s" % race["id"]) not in (failure.text or ""):
            problems.append("%s: classname or failure text wrong" % name)
    return problems


def case_labs_sarif(work):
    sarif, report = os.path.join(work, "r.sarif"), os.path.join(work, "r.json")
    result = run_two_variables("--sarif", sarif, "--json", report)
    problems = expect_status(result, EXIT_RACES)
    if not problems:
        races = load_json(report)["races"]
        if {variable_name(r["variable"]) for r in races} != TWO_VARIABLES_RACES:
            problems.append("unexpected races: %s" % [variable_name(r["variable"]) for r in races])
        problems += private_file_problems(sarif, report) + sarif_problems(sarif, races)
    finish(result, problems)


def case_labs_junit(work):
    junit, report = os.path.join(work, "r.xml"), os.path.join(work, "r.json")
    result = run_two_variables("--junit", junit, "--json", report)
    problems = expect_status(result, EXIT_RACES)
    if not problems:
        problems += private_file_problems(junit) + junit_problems(junit, load_json(report)["races"])
    finish(result, problems)
    # no race: one passing test case
    result = run_two_variables("--junit", junit, program=SAFE_PROGRAM)
    problems = expect_status(result, EXIT_OK)
    if not problems:
        problems += junit_problems(junit, [])
    finish(result, problems)


AB_BA = os.path.join("tests", "corpus", "deadlock_ab_ba.py")


def case_labs_deadlock_formats(work):
    """A potential deadlock in every format: text, JSON, SARIF (schema-valid, its own rule),
    JUnit; a deadlock: suppression removes it and the run passes."""
    report, sarif, junit = (os.path.join(work, n) for n in ("r.json", "r.sarif", "r.xml"))
    result = run_two_variables("--json", report, "--sarif", sarif, "--junit", junit, program=AB_BA)
    problems = expect_status(result, EXIT_RACES)
    for line in ("WARNING: pyrace: lock-order inversion (potential deadlock)",
                 "  Cycle in lock order graph: __main__.LOCK_A => __main__.LOCK_B => __main__.LOCK_A",
                 "  Mutex __main__.LOCK_B acquired here while holding mutex __main__.LOCK_A in thread "
                 "\"Thread-1 (a_then_b)\"",
                 "  Mutex __main__.LOCK_A previously acquired by the same thread here:"):
        if not any(l.startswith(line) for l in result.stderr.splitlines()):
            problems.append("text report lacks %r" % line)
    if not any(l.startswith("SUMMARY: pyrace: lock-order inversion (potential deadlock) __main__.LOCK_A")
               for l in result.stderr.splitlines()):
        problems.append("no SUMMARY line for the deadlock")
    if problems:
        finish(result, problems)
    deadlocks = load_json(report)["deadlocks"]
    if [d["locks"] for d in deadlocks] != [["__main__.LOCK_A", "__main__.LOCK_B"]]:
        problems.append("deadlocks: %r" % deadlocks)
    problems += sarif_problems(sarif, [])
    if not problems:
        log = load_json(sarif)
        results = log["runs"][0]["results"]
        if [(r["ruleId"], r["ruleIndex"]) for r in results] != [("lock-order-inversion", 1)] or \
                results[0]["partialFingerprints"].get("pyraceDeadlockId/v1") != deadlocks[0]["id"] or \
                len(results[0]["codeFlows"][0]["threadFlows"]) != 2:
            problems.append("SARIF deadlock result wrong: %r" % results)
    import xml.etree.ElementTree as ET
    suite = ET.parse(os.path.join(ROOT, junit)).getroot()
    failures = suite.findall("testcase/failure")
    if suite.get("failures") != "1" or len(failures) != 1 or failures[0].get("type") != "lock-order-inversion" or \
            ("Deadlock id: %s" % deadlocks[0]["id"]) not in (failures[0].text or ""):
        problems.append("JUnit deadlock failure wrong")
    finish(result, problems)
    supp = write_text(work, "dl.supp", "deadlock:__main__.LOCK_B\n")
    result = run_two_variables("--suppressions", supp, "--json", report, program=AB_BA)
    problems = expect_status(result, EXIT_OK)
    doc = load_json(report)
    if doc["deadlocks"] or doc.get("suppressed_deadlocks") != 1:
        problems.append("deadlocks %r, suppressed_deadlocks %r" % (doc["deadlocks"], doc.get("suppressed_deadlocks")))
    if "      1 deadlock:__main__.LOCK_B (%s:1)" % supp not in result.stderr.splitlines():
        problems.append("no hit count line for the deadlock: rule")
    finish(result, problems)


def case_labs_suppress_one(work):
    supp = write_text(work, "one.supp", "# known and accepted\nglobal:__main__.GENERATION\n\nrace:no_such_function\n")
    report = os.path.join(work, "r.json")
    result = run_two_variables("--suppressions", supp, "--json", report)
    problems = expect_status(result, EXIT_RACES)
    if not problems:
        doc = load_json(report)
        names = [variable_name(r["variable"]) for r in doc["races"]]
        if names != ["__main__.CONFIG['mode']"]:
            problems.append("races left: %s" % names)
        if doc.get("suppressed") != 1:
            problems.append("suppressed = %r, expected 1" % doc.get("suppressed"))
    lines = result.stderr.splitlines()
    if "      1 global:__main__.GENERATION (%s:2)" % supp not in lines:
        problems.append("no hit count line for global:__main__.GENERATION")
    if "pyrace: unused suppressions:" not in lines or "        race:no_such_function (%s:4)" % supp not in lines:
        problems.append("race:no_such_function is not listed as unused")
    finish(result, problems)


def case_labs_suppress_both(work):
    supp = write_text(work, "both.supp", "global:__main__.CONFIG\nrace:reconfigure\n")
    supp2 = write_text(work, "none.supp", "race_top:*/nowhere/*.py\n")
    report, sarif, junit = (os.path.join(work, n) for n in ("r.json", "r.sarif", "r.xml"))
    result = run_two_variables("--suppressions", supp, "--suppressions", supp2, "--json", report,
                               "--sarif", sarif, "--junit", junit)
    problems = expect_status(result, EXIT_OK)
    if not problems:
        doc = load_json(report)
        if doc["races"] or doc.get("suppressed") != 2:
            problems.append("races %r, suppressed %r; expected none and 2" % (doc["races"], doc.get("suppressed")))
        problems += sarif_problems(sarif, []) + junit_problems(junit, [])
    for line in ("      1 global:__main__.CONFIG (%s:1)" % supp, "      1 race:reconfigure (%s:2)" % supp,
                 "        race_top:*/nowhere/*.py (%s:1)" % supp2):
        if line not in result.stderr.splitlines():
            problems.append("missing line %r" % line)
    finish(result, problems)


def case_labs_suppress_errors(work):
    marker = os.path.join(work, "ran")
    supp = write_text(work, "bad.supp", "race:ok\n# fine\nrace_bottom:x\n")
    result = run([PYRACE, "run", "--suppressions", supp, "--", "sh", "-c", "echo > %s" % shlex.quote(marker)])
    problems = expect_status(result, EXIT_USAGE)
    line = single_line(result.stderr)
    if line is None or "%s:3:" % supp not in line:
        problems.append("expected one line naming %s:3" % supp)
    if os.path.exists(marker):
        problems.append("the command ran although the suppressions could not be read")
    finish(result, problems)
    for args in (["--suppressions", os.path.join(work, "missing.supp")],
                 ["--baseline", write_text(work, "not.json", "{\"schema\": \"other\"}")],
                 ["--baseline", write_text(work, "cut.json", "{\"schema\": \"pyrace-report/1\", \"races\": [")]):
        result = run([PYRACE, "analyze"] + args + ["/nonexistent.trace"])
        problems = expect_status(result, EXIT_USAGE)
        line = single_line(result.stderr)
        if line is None or args[1] not in line:
            problems.append("expected one line naming %s" % args[1])
        finish(result, problems)


def case_labs_baseline(work):
    first, second = os.path.join(work, "first.json"), os.path.join(work, "second.json")
    result = run_two_variables("--json", first)
    problems = expect_status(result, EXIT_RACES)
    finish(result, problems)
    result = run_two_variables("--baseline", first, "--json", second)
    problems = expect_status(result, EXIT_OK)
    if not problems:
        doc = load_json(second)
        if doc["races"] or doc.get("baselined") != 2 or doc.get("suppressed") != 0:
            problems.append("races %r, baselined %r, suppressed %r; expected none, 2, 0" %
                            (doc["races"], doc.get("baselined"), doc.get("suppressed")))
        if "2 races in the baseline" not in result.stderr:
            problems.append("the text report does not count the baselined races")
    finish(result, problems)
    # a baseline that lacks one of the races: only that one is new, and fails the run
    old = load_json(first)
    old["races"] = [r for r in old["races"] if r["variable"]["name"] != "GENERATION"]
    partial = write_text(work, "partial.json", json.dumps(old))
    result = run_two_variables("--baseline", partial, "--json", second)
    problems = expect_status(result, EXIT_RACES)
    if not problems:
        doc = load_json(second)
        names = [variable_name(r["variable"]) for r in doc["races"]]
        if names != ["__main__.GENERATION"] or doc.get("baselined") != 1:
            problems.append("races %s, baselined %r; expected the GENERATION race and 1" % (names, doc.get("baselined")))
    finish(result, problems)


def case_labs_diff(work):
    full = os.path.join(work, "full.json")
    result = run_two_variables("--json", full)
    finish(result, expect_status(result, EXIT_RACES))
    doc = load_json(full)
    ids = {variable_name(r["variable"]): r["id"] for r in doc["races"]}
    doc["races"] = [r for r in doc["races"] if r["variable"]["name"] != "GENERATION"]
    older = write_text(work, "older.json", json.dumps(doc))
    gen, config = ids["__main__.GENERATION"], ids["__main__.CONFIG['mode']"]

    result = run([PYRACE, "diff", older, full])
    problems = expect_status(result, EXIT_RACES)
    out = result.stdout
    for want in ("only in %s (gone): 0\n" % older, "only in %s (new): 1\n  %s __main__.GENERATION" % (full, gen),
                 "in both: 1\n  %s __main__.CONFIG['mode']" % config, "pyrace diff: 1 new, 0 gone, 1 in both\n"):
        if want not in out:
            problems.append("diff output lacks %r:\n%s" % (want, out))
    finish(result, problems)
    result = run([PYRACE, "diff", full, older])
    problems = expect_status(result, EXIT_OK)
    if "only in %s (gone): 1\n  %s __main__.GENERATION" % (full, gen) not in result.stdout:
        problems.append("the gone race is not listed:\n%s" % result.stdout)
    finish(result, problems)
    result = run([PYRACE, "diff", full, full])
    problems = expect_status(result, EXIT_OK)
    if "pyrace diff: 0 new, 0 gone, 2 in both" not in result.stdout:
        problems.append("diff of a report with itself:\n%s" % result.stdout)
    finish(result, problems)
    for args, needle in (([full], None), ([full, os.path.join(work, "missing.json")], "missing.json")):
        result = run([PYRACE, "diff"] + args)
        problems = expect_status(result, EXIT_USAGE)
        if needle and (single_line(result.stderr) is None or needle not in result.stderr):
            problems.append("expected one line naming %s" % needle)
        finish(result, problems)


def case_labs_analyze_and_attach(work):
    """The same options on analyze (a recorded trace) and attach (a live service), and in the
    --help of run, attach and analyze."""
    for command in ("run", "attach", "analyze"):
        result = run([PYRACE, command, "--help"])
        missing = [o for o in OUTPUT_OPTIONS if o not in result.stdout]
        finish(result, expect_status(result, EXIT_OK) + (["--help lacks %s" % missing] if missing else []))
    trace = os.path.join(work, "t.trace")
    result = run([PYRACE, "record", "-o", trace, "--", SYSTEM_PYTHON, TWO_VARIABLES])
    finish(result, expect_status(result, EXIT_OK))
    report, sarif, junit = (os.path.join(work, n) for n in ("a.json", "a.sarif", "a.xml"))
    result = run([PYRACE, "analyze", "--json", report, "--sarif", sarif, "--junit", junit, trace])
    problems = expect_status(result, EXIT_RACES)
    if not problems:
        races = load_json(report)["races"]
        problems += sarif_problems(sarif, races) + junit_problems(junit, races)
    finish(result, problems)
    unused = write_text(work, "unused.supp", "global:nothing.*\n")
    second = os.path.join(work, "b.json")
    result = run([PYRACE, "analyze", "--baseline", report, "--suppressions", unused, "--json", second, trace])
    problems = expect_status(result, EXIT_OK)
    if load_json(second).get("baselined") != 2 or "        global:nothing.* (%s:1)" % unused not in result.stderr:
        problems.append("analyze --baseline/--suppressions: baselined %r" % load_json(second).get("baselined"))
    finish(result, problems)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import test_attach
    supp = write_text(work, "svc.supp", "global:__main__.RESPONSE_CACHE\n")
    svc = test_attach.Service()
    try:
        proc = test_attach.start_attach(svc.proc.pid, "--duration", "3", "--suppressions", supp,
                                        "--json", report, "--sarif", sarif, "--junit", junit)
        test_attach.wait_attached(proc)
        svc.load(1.5)
        _, err = proc.communicate(timeout=60)
    finally:
        svc.stop()
    result = Result(proc.args, proc.returncode, "", err, False)
    problems = expect_status(result, EXIT_OK)
    if not problems:
        doc = load_json(report)
        if doc["races"] or doc.get("suppressed", 0) < 1:
            problems.append("attach: races %r, suppressed %r; expected none and at least 1" %
                            ([variable_name(r["variable"]) for r in doc["races"]], doc.get("suppressed")))
        problems += sarif_problems(sarif, []) + junit_problems(junit, [])
        if not any(l.endswith("global:__main__.RESPONSE_CACHE (%s:1)" % supp) for l in err.splitlines()):
            problems.append("attach: no hit count for the suppression")
    finish(result, problems)


def case_redact_keys():
    """--redact-keys: the key text appears in no output; the race id stays the same."""
    work = tempfile.mkdtemp(prefix="pyrace-redact-")
    try:
        program = os.path.join("tests", "corpus", "racy_two_locks_same_key.py")
        plain_json = os.path.join(work, "plain.json")
        result = run([PYRACE, "run", "--json", plain_json, "--", SYSTEM_PYTHON, program])
        problems = expect_status(result, EXIT_RACES)
        finish(result, problems)
        outs = [os.path.join(work, n) for n in ("r.json", "r.sarif", "r.xml", "r.html")]
        result = run([PYRACE, "run", "--redact-keys", "--json", outs[0], "--sarif", outs[1],
                      "--junit", outs[2], "--html", outs[3], "--", SYSTEM_PYTHON, program])
        problems = expect_status(result, EXIT_RACES)
        texts = [result.stderr] + [open(p, encoding="utf-8").read() for p in outs]
        for name, text in zip(["text", "json", "sarif", "junit", "html"], texts):
            if "'owner'" in text or '"owner"' in text or "[owner]" in text or "&#39;owner&#39;" in text:
                problems.append("the key 'owner' appears in the %s output" % name)
        with open(plain_json) as f:
            plain = json.load(f)
        with open(outs[0]) as f:
            redacted = json.load(f)
        if [r["id"] for r in plain["races"]] != [r["id"] for r in redacted["races"]]:
            problems.append("race ids differ with --redact-keys")
        if not all(r["variable"]["key"].startswith("h:") for r in redacted["races"]):
            problems.append("redacted keys are not h:HASH")
        for p in outs:
            if os.stat(p).st_mode & 0o777 != 0o600:
                problems.append("%s is not mode 0600" % os.path.basename(p))
        finish(result, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def case_valgrind_analyze():
    """The analyzer and every renderer under valgrind memcheck: no error, no definite leak."""
    if shutil.which("valgrind") is None:
        raise CaseFailure(["valgrind is not installed (make deps installs it)"])
    work = tempfile.mkdtemp(prefix="pyrace-vg-")
    try:
        trace = os.path.join(work, "t.trace")
        program = os.path.join("tests", "corpus", "racy_two_variables.py")
        result = run([PYRACE, "record", "-o", trace, "--", SYSTEM_PYTHON, program])
        finish(result, expect_status(result, EXIT_OK))
        outs = [os.path.join(work, n) for n in ("r.json", "r.sarif", "r.xml", "r.html")]
        # a sanitized binary cannot run under valgrind: ASan and LSan check the same
        memcheck = [] if SANITIZED else ["valgrind", "--error-exitcode=99", "--leak-check=full",
                                         "--errors-for-leak-kinds=definite,indirect", "-q"]
        result = run(memcheck + [PYRACE, "analyze",
                                 "--json", outs[0], "--sarif", outs[1], "--junit", outs[2], "--html", outs[3],
                                 trace],
                     timeout=300)
        problems = expect_status(result, EXIT_RACES)
        if "==" in result.stderr and "ERROR SUMMARY" in result.stderr:
            problems.append("valgrind reported errors")
        finish(result, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def case_no_reads():
    """--no-reads: read-write races are not reported, write-write ones are; the report and a
    trace analysed later both say that reads were not recorded."""
    work = tempfile.mkdtemp(prefix="pyrace-noreads-")
    try:
        problems = []
        out = os.path.join(work, "r.json")
        read_write = os.path.join("tests", "corpus", "racy_read_write.py")
        result = run([PYRACE, "run", "--json", out, "--", SYSTEM_PYTHON, read_write])
        problems += expect_status(result, EXIT_RACES)
        full = load_json(out)
        result = run([PYRACE, "run", "--no-reads", "--json", out, "--", SYSTEM_PYTHON, read_write])
        problems += expect_status(result, EXIT_OK)
        lean = load_json(out)
        if lean["races"]:
            problems.append("--no-reads reported %d races on a read-write program" % len(lean["races"]))
        if lean["stats"].get("reads_recorded") is not False or full["stats"].get("reads_recorded") is not True:
            problems.append("stats.reads_recorded: %r with --no-reads, %r without"
                            % (lean["stats"].get("reads_recorded"), full["stats"].get("reads_recorded")))
        if lean["stats"]["events"] >= full["stats"]["events"]:
            problems.append("--no-reads recorded %d events, not fewer than %d"
                            % (lean["stats"]["events"], full["stats"]["events"]))
        if "reads were not recorded" not in result.stderr:
            problems.append("the text report does not say that reads were not recorded")
        trace = os.path.join(work, "t.trace")
        write_write = os.path.join("tests", "corpus", "racy_global_write_write.py")
        result = run([PYRACE, "record", "--no-reads", "-o", trace, "--", SYSTEM_PYTHON, write_write])
        problems += expect_status(result, EXIT_OK)
        result = run([PYRACE, "analyze", "--json", out, trace])
        problems += expect_status(result, EXIT_RACES)
        analysed = load_json(out)
        if parse_expect(write_write) != {variable_name(r["variable"]) for r in analysed["races"]}:
            problems.append("write-write races differ under --no-reads: %s"
                            % format_set({variable_name(r["variable"]) for r in analysed["races"]}))
        if analysed["stats"].get("reads_recorded") is not False:
            problems.append("the analysed trace does not remember --no-reads")
        finish(result, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def case_test_runners():
    """pytest and unittest under pyrace run: each race names the test it happened during, on
    both sides; the JUnit output has a failing test case named as pytest names the test."""
    import xml.etree.ElementTree as ET
    work = tempfile.mkdtemp(prefix="pyrace-testrunners-")
    try:
        problems = []
        suite_dir = os.path.join(ROOT, "tests", "testrunners")
        out, xml = os.path.join(work, "r.json"), os.path.join(work, "r.xml")
        want = {"test_shared_cache.CACHE['direct']": "test_shared_cache.py::test_direct_write",
                "test_shared_cache.CACHE['shared']": "test_shared_cache.py::TestCache::test_racy_fill"}
        runners = [
            ("pytest", ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_shared_cache.py"], want),
            ("unittest", ["-m", "unittest", "-q", "test_shared_cache"],
             {k: v for k, v in want.items() if "TestCache" in v}),
        ]
        for runner, args, expected in runners:
            result = subprocess.run([os.path.join(ROOT, PYRACE), "run", "--json", out, "--junit", xml, "--",
                                     SYSTEM_PYTHON] + args, cwd=suite_dir, capture_output=True,
                                    text=True, timeout=TIMEOUT)
            if result.returncode != EXIT_RACES:
                problems.append("%s: exit %s, expected %d: %s" % (runner, result.returncode,
                                                                 EXIT_RACES, result.stderr[-800:]))
                continue
            races = load_json(out)["races"]
            got = {variable_name(r["variable"]): (r["current"].get("test"), r["previous"].get("test"))
                   for r in races}
            if set(got) != set(expected):
                problems.append("%s: races on %s, expected %s" % (runner, format_set(set(got)),
                                                                  format_set(set(expected))))
            for name, test in expected.items():
                if name in got and got[name] != (test, test):
                    problems.append("%s: %s names tests %s, expected %s on both sides"
                                    % (runner, name, got[name], test))
            cases = {(c.get("classname"), c.get("name")): c.find("failure") is not None
                     for c in ET.parse(xml).getroot().iter("testcase")}
            for test in expected.values():
                parts = test.split("::")
                key = (".".join([parts[0][:-3]] + parts[1:-1]), parts[-1])
                if not cases.get(key):
                    problems.append("%s: no failing JUnit testcase %s in %s" % (runner, key, sorted(cases)))
        if problems:
            raise CaseFailure(problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


CLI_CASES = [
    ("cli: analyze and every format under valgrind memcheck", case_valgrind_analyze),
    ("labs: pytest and unittest under pyrace run: races name their tests, JUnit marks them",
     case_test_runners),
    ("cli: --no-reads: writes and synchronisation only, said in the report and the trace", case_no_reads),
    ("cli: --redact-keys hides keys in every output, ids unchanged, files 0600", case_redact_keys),
    ("cli: doctor on both interpreters, without debug info, and on the 3.13/3.14 chroots", case_doctor),
    ("cli: attach to 3.13 in its chroot (when built)", case_attach_313),
    ("cli: attach to 3.14 in its chroot (when built)", case_attach_314),
    ("cli: attach to the free-threaded 3.13t in its chroot (when built)", case_attach_313t),
    ("cli: doctor and run on the free-threaded 3.13t in its chroot (when built)",
     case_doctor_free_threaded),
    ("cli: record, then analyze (also unprivileged, cut and corrupt traces)", case_record_then_analyze),
    ("cli: no arguments -> exit 1", case_no_arguments),
    ("cli: run without a command -> exit 1", case_run_without_command),
    ("cli: run -- /nonexistent/cmd -> exit 1, 'not found'", case_command_not_found),
    ("cli: run -- sh -c ... -> command runs, exit 2, 'not a CPython'", case_not_cpython),
    ("cli: not root -> exit 1, one line about root", case_not_root),
    ("cli: --debug-dir /nonexistent -> exit 2, names python3.11-dbg", case_missing_debug_info),
    ("labs: run --sarif -> valid SARIF 2.1.0 (schema), one result per race", labs_case(case_labs_sarif)),
    ("labs: run --junit -> JUnit XML, one failure per race; one passing case without races",
     labs_case(case_labs_junit)),
    ("labs: a potential deadlock in text, JSON, SARIF (schema) and JUnit; deadlock: suppression",
     labs_case(case_labs_deadlock_formats)),
    ("labs: --suppressions one of two variables -> exit 66, suppressed 1, hit counts, unused rules",
     labs_case(case_labs_suppress_one)),
    ("labs: --suppressions both variables (two files) -> exit 0", labs_case(case_labs_suppress_both)),
    ("labs: bad --suppressions/--baseline -> exit 1, one line, nothing traced",
     labs_case(case_labs_suppress_errors)),
    ("labs: --baseline from a first run -> exit 0, baselined 2; only new races fail",
     labs_case(case_labs_baseline)),
    ("labs: pyrace diff A.json B.json -> gone/new/both, exit 66 only for new races", labs_case(case_labs_diff)),
    ("labs: analyze and attach take the same options; --help lists them",
     labs_case(case_labs_analyze_and_attach)),
]


# --- interpreters and case selection -------------------------------------------------


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def resolve_interpreter(path):
    """A launcher script (pyenv shim) is replaced by the interpreter it runs."""
    found = shutil.which(path)
    if found is None:
        return path  # reported by the cases that use it
    if is_elf(os.path.realpath(found)):
        return found
    probe = run([found, "-c", "import sys; print(sys.executable)"], timeout=30)
    executable = probe.stdout.strip()
    if probe.returncode == 0 and executable and is_elf(os.path.realpath(executable)):
        return executable
    return found


def interpreters(selected):
    if selected:
        return [resolve_interpreter(selected)]
    result = [SYSTEM_PYTHON]
    on_path = shutil.which("python3")
    if on_path:
        resolved = resolve_interpreter(on_path)
        if os.path.realpath(resolved) != os.path.realpath(SYSTEM_PYTHON):
            result.append(resolved)
    # Debian trixie's 3.13 and sid's 3.14 (tests/interpreters/setup.sh), when their chroots are
    # built; with PYRACE_BUILD_INTERPRETERS=1 they are built first (27 s and 473 MB for trixie)
    for suite, minor in (("trixie", "3.13"), ("sid", "3.14")):
        python = os.path.join(INTERP_CACHE, suite, "usr", "bin", "python" + minor)
        stamp = os.path.join(INTERP_CACHE, suite + ".stamp")
        if not os.path.exists(stamp) and os.environ.get("PYRACE_BUILD_INTERPRETERS") == "1":
            run(["tests/interpreters/setup.sh", "--only", suite], timeout=1800)
        if os.path.exists(stamp) and os.access(python, os.X_OK):
            result.append(python)
    # the free-threaded 3.13t built from trixie's sources (about 4 minutes, once)
    free_threaded = free_threaded_interpreter()
    if free_threaded:
        result.append(free_threaded)
    return result


FREE_THREADED = "trixie-ft"  # tests/interpreters/setup.sh's name for the 3.13t chroot
FREE_THREADED_PYTHON = os.path.join("opt", "python3.13t", "bin", "python3.13t")


_free_threaded_build = []  # the result of this run's one attempt to build it, if any


def free_threaded_interpreter():
    """The 3.13t interpreter when its chroot is built (with PYRACE_BUILD_INTERPRETERS=1 it is
    built first, once; a failed build fails case_doctor_free_threaded), else None."""
    python = os.path.join(INTERP_CACHE, FREE_THREADED, FREE_THREADED_PYTHON)
    stamp = os.path.join(INTERP_CACHE, FREE_THREADED + ".stamp")
    if not os.path.exists(stamp) and os.environ.get("PYRACE_BUILD_INTERPRETERS") == "1" \
            and not _free_threaded_build:
        _free_threaded_build.append(run(["tests/interpreters/setup.sh", "--only", FREE_THREADED],
                                        timeout=3600))
    return python if os.path.exists(stamp) and os.access(python, os.X_OK) else None


def attach_cases():
    """The `attach` tests live in test_attach.py (test_children.py: several processes); an
    AssertionError there is a failed case."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import test_attach

    def wrap(fn):
        def case():
            try:
                fn()
            except AssertionError as exc:
                raise CaseFailure(str(exc).splitlines() or ["assertion failed"])
        return case

    import test_faults
    import test_children
    import test_global_reads
    import test_html
    import test_manners

    cases = (test_attach.CASES + test_faults.CASES + test_children.CASES + test_html.CASES
             + test_manners.CASES + test_global_reads.CASES)
    return [(name, wrap(fn)) for name, fn in cases]


def all_cases(interps):
    cases = []
    corpus_abs = os.path.join(ROOT, CORPUS_DIR)
    programs = sorted(
        os.path.join(CORPUS_DIR, name) for name in os.listdir(corpus_abs) if name.endswith(".py")
    ) if os.path.isdir(corpus_abs) else []
    if not programs:
        def empty_corpus():
            raise CaseFailure(["no programs in %s" % CORPUS_DIR])
        cases.append(("corpus is not empty", empty_corpus))
    for program in programs + EXAMPLES:
        for interpreter in interps:
            cases.append(program_case(program, interpreter))
    cases.extend(CLI_CASES)
    cases.extend(attach_cases())
    if SANITIZED:
        cases.insert(0, ("asan: the binary under test (PYRACE_BIN) is built with ASan and UBSan",
                      case_sanitized_binary))
    return cases


def execute(case):
    name, problems = execute_case(case)
    if SANITIZED:  # with -j N a report may be charged to a case that ran alongside its own
        found = sanitizer_problems()
        if found:
            problems = (problems or []) + found
    return name, problems


def execute_case(case):
    name, fn = case
    try:
        fn()
        return name, None
    except CaseFailure as exc:
        return name, exc.args[0]
    except Exception as exc:  # a bug in this script must fail the case, not the run
        return name, ["unexpected error in the test driver: %s: %s" % (type(exc).__name__, exc)]


def main():
    parser = argparse.ArgumentParser(description="pyrace integration tests")
    parser.add_argument("--only", metavar="SUBSTRING", help="run only the cases whose name contains SUBSTRING")
    parser.add_argument("--interp", metavar="PATH", help="run the programs under this interpreter only")
    parser.add_argument("-j", dest="jobs", metavar="N", type=int, default=1, help="run N cases in parallel (default 1)")
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("-j must be at least 1")

    os.makedirs(os.path.join(ROOT, WORK_DIR), exist_ok=True)
    if SANITIZED:
        setup_sanitizers()
    interps = interpreters(args.interp)
    cases = all_cases(interps)
    if args.only:
        cases = [c for c in cases if args.only in c[0]]
    print("interpreters: %s" % ", ".join(interps))
    sys.stdout.flush()
    if not cases:
        print("no case matches %r" % args.only, file=sys.stderr)
        print("0 passed, 0 failed")
        return 1
    if not os.access(os.path.join(ROOT, PYRACE), os.X_OK):
        print("%s is missing or not executable in %s: build it with make" % (PYRACE, ROOT), file=sys.stderr)
        print("0 passed, %d failed" % len(cases))
        return 1

    passed = failed = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, problems in pool.map(execute, cases):  # results in case order
            if problems is None:
                passed += 1
                print("ok   %s" % name)
            else:
                failed += 1
                print("FAIL %s" % name)
                for line in problems:
                    print("       %s" % line)
            sys.stdout.flush()
    late = sanitizer_problems() if SANITIZED else []
    if late:  # written by a process that outlived its case
        failed += 1
        print("FAIL sanitizer reports after the last case")
        for line in late:
            print("       %s" % line)
    print("%d passed, %d failed" % (passed, failed))
    if SANITIZED:
        shutil.rmtree(SANITIZER_LOG_DIR, ignore_errors=True)
        print("sanitized binary %s: every case checked for ASan, LSan and UBSan reports" % PYRACE)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
