"""The HTML report (`--html FILE`) opened in headless Chromium: what the page shows after the
browser parsed it must match the JSON report of the same run, and a hostile key must stay text.

Called by run_all.py; each function raises AssertionError with a message when an expectation
is not met. Chromium (Debian's `chromium`) is installed when missing, as `make test-deps` does."""
import html.parser
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYRACE = os.path.abspath(os.environ.get("PYRACE_BIN") or os.path.join(ROOT, "pyrace"))  # run_all.py
SYSTEM_PYTHON = "/usr/bin/python3.11"
RACY = os.path.join(ROOT, "tests", "corpus", "racy_unlocked_write.py")
TWO_VARIABLES = os.path.join(ROOT, "tests", "corpus", "racy_two_variables.py")
HOSTILE = os.path.join(ROOT, "tests", "integration", "programs", "hostile_key.py")
HOSTILE_KEY = "<script>alert(1)</script>"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"]
_install_lock = threading.Lock()


def chromium():
    """The chromium binary, installed with apt-get when missing (once; idempotent)."""
    with _install_lock:
        found = shutil.which("chromium")
        if found:
            return found
        if os.geteuid() != 0:
            raise AssertionError("chromium is not installed (make test-deps installs it as root)")
        started = time.time()
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        result = subprocess.run("apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium",
                                shell=True, env=env, capture_output=True, text=True, timeout=900)
        if result.returncode != 0 or not shutil.which("chromium"):
            raise AssertionError("installing chromium failed:\n" + result.stderr[-2000:])
        print("  (chromium installed in %.0f s)" % (time.time() - started), flush=True)
        return shutil.which("chromium")


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()

    def find_all(self, tag=None, cls=None, ident=None):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and
                (cls is None or cls in n.classes()) and (ident is None or n.attrs.get("id") == ident)]


VOID = {"meta", "link", "br", "img", "input", "hr", "col", "area", "base", "source", "wbr"}


class TreeBuilder(html.parser.HTMLParser):
    """The DOM that Chromium serialised, as a tree (its output is well formed)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def dump_dom(path, work):
    """The page's DOM after Chromium loaded it (and ran any script it had)."""
    result = subprocess.run([chromium()] + CHROMIUM_FLAGS + ["--user-data-dir=" + os.path.join(work, "profile"),
                                                            "--dump-dom", "file://" + path],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise AssertionError("chromium --dump-dom failed (exit %s): %s" % (result.returncode, result.stderr[-1500:]))
    builder = TreeBuilder()
    builder.feed(result.stdout)
    return builder.root


def screenshot(path, work):
    png = os.path.join(work, "page.png")
    result = subprocess.run([chromium()] + CHROMIUM_FLAGS + ["--user-data-dir=" + os.path.join(work, "profile"),
                                                            "--window-size=1400,2000", "--screenshot=" + png,
                                                            "file://" + path],
                            capture_output=True, text=True, timeout=120)
    with open(png, "rb") as f:
        head = f.read(8)
    if result.returncode != 0 or head != b"\x89PNG\r\n\x1a\n" or os.path.getsize(png) < 10000:
        raise AssertionError("chromium --screenshot made no proper PNG: %s" % result.stderr[-1500:])


def variable_name(v):
    name = "%s.%s" % (v["module"], v["name"])
    if v.get("container") == "global":
        return name
    if v.get("key") is None:
        return name + "[*]"
    if v.get("key_type") == "str":
        return name + "['" + v["key"].replace("\\", "\\\\").replace("'", "\\'") + "']"
    return name + "[%s]" % v["key"]


def traced(program, work, *extra):
    page, report = os.path.join(work, "r.html"), os.path.join(work, "r.json")
    result = subprocess.run([PYRACE, "run", "--html", page, "--json", report] + list(extra) +
                            ["--", SYSTEM_PYTHON, program], cwd=ROOT, capture_output=True, text=True, timeout=120)
    if result.returncode != 66:
        raise AssertionError("pyrace run %s: exit %s, expected 66\n%s" %
                             (os.path.basename(program), result.returncode, result.stderr[-2000:]))
    for path in (page, report):
        if os.stat(path).st_mode & 0o777 != 0o600:
            raise AssertionError("%s is not mode 0600" % os.path.basename(path))
    with open(report, encoding="utf-8") as f:
        doc = json.load(f)
    with open(page, encoding="utf-8") as f:
        raw = f.read()
    return page, raw, doc


def problems_of_page(raw, dom, doc):
    """What the rendered page gets wrong against the JSON report of the same run."""
    problems = []
    # nothing that could be fetched: no URL scheme at all, no src, no external href
    if re.search(r"https?://", raw, re.I) or re.search(r"\bsrc\s*=", raw, re.I) or \
            re.search(r"""href\s*=\s*(?!["']?#)""", raw, re.I) or "@import" in raw or "url(" in raw.replace("url(#", ""):
        problems.append("the page refers to something outside itself")
    if dom.find_all("script") or dom.find_all("iframe") or dom.find_all("object") or dom.find_all("link"):
        problems.append("the page has script/iframe/object/link elements")
    count = dom.find_all(ident="race-count")
    shown = count[0].text().strip() if count else None
    if shown != str(len(doc["races"])):
        problems.append("race count shown %r, JSON has %d" % (shown, len(doc["races"])))
    sections = {s.attrs.get("data-race-id"): s for s in dom.find_all("section", cls="race")}
    if len(sections) != len(doc["races"]):
        problems.append("%d race sections for %d races" % (len(sections), len(doc["races"])))
    for race in doc["races"]:
        section = sections.get(race["id"])
        name = variable_name(race["variable"])
        if section is None:
            problems.append("no section for race %s (%s)" % (race["id"], name))
            continue
        shown_name = [n.text() for n in section.find_all(cls="variable")]
        if shown_name != [name]:
            problems.append("race %s shows variable %r, expected %r" % (race["id"], shown_name, name))
        kinds = [n.text() for n in section.find_all(cls="kind")]
        if kinds != [race["kind"]]:
            problems.append("race %s shows kind %r, expected %r" % (race["id"], kinds, race["kind"]))
        for side in ("current", "previous"):
            top = race[side]["stack"][0]
            box = section.find_all("div", cls=side)
            heads = [n.text() for n in box[0].find_all("summary")] if box else []
            want = "%s %s:%d" % (top["function"], top["file"], top["line"])
            if not heads or heads[0] != want:
                problems.append("race %s, %s side: innermost frame shown %r, expected %r" %
                                (race["id"], side, heads[:1], want))
            hits = [n.text() for n in box[0].find_all(cls="hit")] if box else []
            if not hits or not hits[0].lstrip().startswith(str(top["line"])):
                problems.append("race %s, %s side: the racing line is not highlighted" % (race["id"], side))
        lanes = section.find_all(cls="lane-label")
        accesses = section.find_all("circle", cls="access")
        if len(lanes) != 2 or len(accesses) != 2:
            problems.append("race %s: timeline with %d lanes and %d accesses" % (race["id"], len(lanes), len(accesses)))
    return problems


def test_html_in_chromium():
    work = tempfile.mkdtemp(prefix="pyrace-html-")
    try:
        problems = []
        for program in (RACY, TWO_VARIABLES):
            page, raw, doc = traced(program, work)
            problems += ["%s: %s" % (os.path.basename(program), p)
                         for p in problems_of_page(raw, dump_dom(page, work), doc)]
        screenshot(page, work)

        page, raw, doc = traced(HOSTILE, work)
        dom = dump_dom(page, work)
        problems += ["hostile_key.py: " + p for p in problems_of_page(raw, dom, doc)]
        if HOSTILE_KEY in raw:
            problems.append("the hostile key appears unescaped in the file")
        if "&lt;script&gt;alert(1)&lt;/script&gt;" not in raw:
            problems.append("the hostile key is not in the file as escaped text")
        if not any(HOSTILE_KEY in n.text() for n in dom.find_all(cls="variable")):
            problems.append("the page does not show the key %r as text" % HOSTILE_KEY)
        if problems:
            raise AssertionError("\n".join(problems))
    finally:
        shutil.rmtree(work, ignore_errors=True)


CASES = [
    ("labs: HTML report rendered in headless Chromium (counts, names, frames, escaping, no network)",
     test_html_in_chromium),
]
