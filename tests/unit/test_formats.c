/* Checks the JUnit and SARIF renderings (parsed back by Python, SARIF also against the SARIF
 * 2.1.0 schema when the validator is installed), the strict JSON reader on valid and hostile
 * input, and reading reports back as baselines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "baseline.h"
#include "json_read.h"
#include "report.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* where tests/integration/run_all.py installs the SARIF schema and Ajv (npm) */
#define SARIF_VALIDATOR_DIR "tests/.work/sarif-validator"
#define SARIF_VALIDATOR_JS  "tests/integration/validate_sarif.js"

/* ---- fixtures ---------------------------------------------------------------------------- */

static const struct report_frame cur_frames[] = {
    {"/srv/app/nova/context.py", "set_target_cell", 358},
    {"/srv/app/nova/api.py", "Handler.do_GET", 41},
    {"/usr/lib/python3.11/threading.py", "Thread.run", 975},
};
static const struct report_frame prev_frames[] = {
    {"/srv/app/nova/cells.py", "load_cells", 12},
};
static const char *const main_lock[] = {"__main__.LOCK"};
static const char *const argv2[] = {"python3", "app.py"};

static struct report_race make_race(const char *module, const char *name, const char *key)
{
	struct report_race r = {
	    .kind = key ? "read-write" : "write-write",
	    .variable = {.module = module,
			 .name = name,
			 .container = key ? "dict" : "global",
			 .key = key,
			 .key_type = key ? "str" : NULL},
	    .current = {.op = "write",
			.thread = {4250, "Thread-2 (worker)"},
			.locks_held = main_lock,
			.nlocks = 1,
			.stack = {.frames = cur_frames, .nframes = ARRAY_LEN(cur_frames)}},
	    .previous = {.op = key ? "read" : "write",
			 .thread = {4249, "Thread-1 (worker)"},
			 .stack = {.frames = prev_frames, .nframes = ARRAY_LEN(prev_frames)}},
	    .occurrences = 3,
	};
	report_race_compute_id(&r);
	return r;
}

static struct report make_report(const struct report_race *races, size_t n)
{
	struct report r = {
	    .target = {.pid = 4242,
		       .argv = argv2,
		       .argc = 2,
		       .python_version = "3.11.2",
		       .executable = "/usr/bin/python3.11",
		       .build = "release"},
	    .stats = {.events = 18234, .threads = 4, .watched_dicts = 57, .duration_s = 1.93},
	    .races = races,
	    .nraces = n,
	    .suppressed = 1,
	    .baselined = 2,
	};
	return r;
}

typedef int (*renderer)(const struct report *r, FILE *out);

static char *render(renderer fn, const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fn(r, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;

	assert_non_null(f);
	assert_non_null(m);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	return buf;
}

static char *temp_file(const char *prefix, const char *text)
{
	char *path = NULL;
	assert_true(asprintf(&path, "/tmp/pyrace-%s-XXXXXX", prefix) > 0);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

struct check {
	const char *expr; /* Python expression over d, the parsed document */
	const char *want; /* its ascii() */
};

/* Runs python3 on the document (on stdin): `load` parses it into d, then ascii() of each
 * expression is printed, one a line, and compared here. */
static void check_python(const char *doc, const char *load, const struct check *checks, size_t n)
{
	char script[] = "/tmp/pyrace-fmt-py-XXXXXX";
	char outpath[] = "/tmp/pyrace-fmt-out-XXXXXX";
	int sfd = mkstemp(script), ofd = mkstemp(outpath);
	char cmd[256];

	assert_true(sfd >= 0 && ofd >= 0);
	close(ofd);
	FILE *s = fdopen(sfd, "w");
	assert_non_null(s);
	fprintf(s, "import json, sys\nimport xml.etree.ElementTree as ET\n%s\n", load);
	for (size_t i = 0; i < n; i++)
		fprintf(s, "print(ascii(%s))\n", checks[i].expr);
	assert_int_equal(fclose(s), 0);

	snprintf(cmd, sizeof cmd, "python3 %s > %s 2>&1", script, outpath);
	FILE *p = popen(cmd, "w");
	assert_non_null(p);
	fputs(doc, p);
	int status = pclose(p);
	char *out = slurp(outpath);
	unlink(script);
	unlink(outpath);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* stderr, not print_error: cmocka cuts long messages */
		fprintf(stderr, "python3 rejected the document:\n%s\n--- document ---\n%s\n", out,
			doc);
		fail();
	}
	char *line = out;
	for (size_t i = 0; i < n; i++) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		if (strcmp(line, checks[i].want) != 0)
			print_error("expression: %s\n", checks[i].expr);
		assert_string_equal(line, checks[i].want);
		line = nl + 1;
	}
	free(out);
}

#define XML_LOAD  "d = ET.fromstring(sys.stdin.buffer.read())"
#define JSON_LOAD "d = json.loads(sys.stdin.buffer.read().decode('utf-8', 'strict'))"

#define CHECK_PY(doc, load, ...)                                                                   \
	do {                                                                                       \
		const struct check checks_[] = {__VA_ARGS__};                                      \
		check_python(doc, load, checks_, ARRAY_LEN(checks_));                              \
	} while (0)

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		print_error("missing:\n%s\n--- in ---\n%s\n", needle, hay);
	assert_non_null(strstr(hay, needle));
}

/* ---- JUnit ------------------------------------------------------------------------------- */

static void test_junit_structure(void **state)
{
	(void)state;
	struct report_race races[2] = {make_race("nova.context", "CELL_CACHE", "uuid-1"),
				       make_race("__main__", "GENERATION", NULL)};
	struct report r = make_report(races, 2);
	char *xml = render(report_write_junit, &r);
	char want_text[64];

	assert_true(strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0);
	CHECK_PY(
	    xml, XML_LOAD, {"d.tag", "'testsuite'"}, {"d.get('name')", "'pyrace'"},
	    {"(d.get('tests'), d.get('failures'), d.get('errors'))", "('2', '2', '0')"},
	    {"d.get('time')", "'1.930'"}, {"len(d.findall('testcase'))", "2"},
	    {"len(d.findall('testcase/failure'))", "2"},
	    {"[t.get('classname') for t in d.findall('testcase')]", "['nova.context', '__main__']"},
	    {"d.findall('testcase')[0].get('name')",
	     "\"nova.context.CELL_CACHE['uuid-1'] at context.py:358 and cells.py:12\""},
	    {"d.findall('testcase')[1].get('name')",
	     "'__main__.GENERATION at context.py:358 and cells.py:12'"},
	    {"d.find('testcase/failure').get('type')", "'data-race'"},
	    {"d.find('testcase/failure').get('message')",
	     "\"data race on nova.context.CELL_CACHE['uuid-1'] (read-write)\""},
	    {"d.find('testcase/failure').text.splitlines()[1]",
	     "\"WARNING: pyrace: data race on nova.context.CELL_CACHE['uuid-1'] "
	     "(read-write)\""},
	    {"'  Locks held: __main__.LOCK' in d.find('testcase/failure').text", "True"},
	    {"'#2 Thread.run /usr/lib/python3.11/threading.py:975' in "
	     "d.find('testcase/failure').text",
	     "True"},
	    {"{p.get('name'): p.get('value') for p in d.findall('properties/property')}",
	     "{'pyrace.version': '0.1.0', 'pid': '4242', 'argv': 'python3 app.py', 'python': "
	     "'3.11.2', 'events': '18234', 'lost_events': '0', 'threads': '4', 'ended_early': "
	     "'false', 'suppressed': '1', 'baselined': '2'}"});
	snprintf(want_text, sizeof want_text, "  Race id: %s", races[1].id);
	assert_contains(xml, want_text);
	free(xml);
}

/* A race during a test is a test case named as pytest names that test; in the text report and
 * the JSON document each access names its test. */
static void test_junit_names_tests(void **state)
{
	(void)state;
	struct report_race races[3] = {make_race("tests.test_x", "CACHE", "k"),
				       make_race("tests.test_x", "CACHE", "j"),
				       make_race("app", "STATE", NULL)};
	races[0].current.test = "test_x.py::TestCache::test_fill";
	races[0].previous.test = "test_x.py::TestCache::test_fill";
	races[1].previous.test = "test_x.py::test_plain";
	races[2].current.test = "weird<&>.py::t::test_odd";
	struct report r = make_report(races, 3);
	char *xml = render(report_write_junit, &r);
	CHECK_PY(xml, XML_LOAD,
		 {"[(t.get('classname'), t.get('name')) for t in d.findall('testcase')]",
		  "[('test_x.TestCache', 'test_fill'), ('test_x', 'test_plain'), "
		  "('weird<&>.t', 'test_odd')]"},
		 {"len(d.findall('testcase/failure'))", "3"});
	free(xml);
	char *json = render(report_write_json, &r);
	CHECK_PY(json, JSON_LOAD,
		 {"[r['current'].get('test') for r in d['races']]",
		  "['test_x.py::TestCache::test_fill', None, 'weird<&>.py::t::test_odd']"});
	free(json);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	report_write_text(&r, f, 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "  During test test_x.py::TestCache::test_fill\n"));
	free(text);
}

/* A thread's start site follows the accesses in the text report and is in the JSON thread. */
static void test_thread_creation_site(void **state)
{
	(void)state;
	static const struct report_frame start[] = {
	    {"/usr/lib/python3.11/threading.py", "Thread.start", 957}, {"/srv/app.py", "main", 22}};
	static const struct report_stack started = {start, 2, 0};
	struct report_race race = make_race("app", "CACHE", "k");
	race.current.thread.created_by = "MainThread";
	race.current.thread.created_at = &started;
	static const struct report_frame made[] = {{"/srv/app.py", "<module>", 3}};
	static const struct report_stack made_at = {made, 1, 0};
	static const char *const held[] = {"app.LOCK"};
	static const struct report_stack *const held_made[] = {&made_at};
	race.current.locks_held = held;
	race.current.nlocks = 1;
	race.current.locks_created = held_made;
	race.previous.locks_held = held;
	race.previous.nlocks = 1;
	race.previous.locks_created = held_made;
	struct report r = make_report(&race, 1);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	report_write_text(&r, f, 0);
	assert_int_equal(fclose(f), 0);
	/* a lock held on both sides is shown once */
	const char *lock =
	    strstr(text, "  Lock app.LOCK created at:\n    #0 <module> /srv/app.py:3\n");
	assert_non_null(lock);
	assert_null(strstr(lock + strlen("  Lock"), "Lock app.LOCK created at:"));
	assert_non_null(strstr(text, "created by thread \"MainThread\" at:\n"
				     "    #0 Thread.start /usr/lib/python3.11/threading.py:957\n"
				     "    #1 main /srv/app.py:22\n"));
	free(text);
	char *json = render(report_write_json, &r);
	CHECK_PY(
	    json, JSON_LOAD, {"d['races'][0]['current']['thread']['created_by']", "'MainThread'"},
	    {"[x['line'] for x in d['races'][0]['current']['thread']['created_at']]", "[957, 22]"},
	    {"'created_at' in d['races'][0]['previous']['thread']", "False"});
	free(json);
}

static void test_junit_no_races(void **state)
{
	(void)state;
	struct report r = make_report(NULL, 0);
	r.stats.duration_s = NAN;
	char *xml = render(report_write_junit, &r);

	CHECK_PY(xml, XML_LOAD, {"(d.get('tests'), d.get('failures'))", "('1', '0')"},
		 {"d.get('time')", "'0.000'"},
		 {"[(t.get('classname'), t.get('name')) for t in d.findall('testcase')]",
		  "[('pyrace', 'no data races')]"},
		 {"d.findall('testcase/failure')", "[]"});
	free(xml);
	struct report empty = {0};
	xml = render(report_write_junit, &empty);
	CHECK_PY(xml, XML_LOAD, {"len(d.findall('testcase'))", "1"},
		 {"d.find('properties/property[@name=\"argv\"]').get('value')", "''"});
	free(xml);
}

/* Keys, paths and thread names come from the traced program: whatever they hold, the document
 * must stay well-formed XML 1.0 and say what it can of them. */
static void test_junit_escaping(void **state)
{
	(void)state;
	static const struct report_frame evil_frames[] = {
	    {"/tmp/<dir>/a&b \"q\" 'x'.py", "f<\x01>", 3},
	};
	const char *key = "k&<>\"'\t\n\r\x01\x1f\x7f \xef\xbf\xbe\xef\xbf\xbf \xff caf\xc3\xa9 "
			  "\xf0\x9f\x90\x8d ]]>";
	struct report_race race = make_race("m<&>", "N\"A'ME", key);
	race.current.thread.name = "evil\x0b\x0c</failure>";
	race.previous.stack.frames = evil_frames;
	race.previous.stack.nframes = 1;
	struct report r = make_report(&race, 1);
	static const char *const argv_nasty[] = {"py\x02thon", "a&b"};
	r.target.argv = argv_nasty;
	char *xml = render(report_write_junit, &r);

	for (const unsigned char *p = (const unsigned char *)xml; *p; p++)
		assert_true(*p >= 0x20 || *p == '\n');
	CHECK_PY(xml, XML_LOAD, {"d.find('testcase').get('classname')", "'m<&>'"},
		 {"d.find('testcase').get('name')",
		  /* escaped as the variable name is; U+FFFE and U+FFFF gone, U+FFFD for \xff */
		  "'m<&>.N\"A\\'ME[\\'k&<>\"\\\\\\'\\\\t\\\\n\\\\r\\\\x01\\\\x1f\\\\x7f  \\ufffd "
		  "caf\\xe9 \\U0001f40d ]]>\\'] at context.py:358 and a&b \"q\" \\'x\\'.py:3'"},
		 {"d.find('properties/property[@name=\"argv\"]').get('value')", "'python a&b'"},
		 {"'by thread \"evil\\\\x0b\\\\x0c</failure>\" (tid 4250)' in "
		  "d.find('testcase/failure').text",
		  "True"},
		 {"'#0 f<\\\\x01> /tmp/<dir>/a&b \"q\" \\'x\\'.py:3' in "
		  "d.find('testcase/failure').text",
		  "True"});
	free(xml);

	/* raw characters straight into attributes: tab, newline and return survive as
	 * references; other controls and U+FFFE/U+FFFF are dropped; bad UTF-8 is U+FFFD */
	struct report_race raw = make_race("a\tb\nc\rd\x01"
					   "e\xef\xbf\xbe"
					   "f\xc3",
					   "X", NULL);
	r = make_report(&raw, 1);
	xml = render(report_write_junit, &r);
	assert_contains(xml, "classname=\"a&#9;b&#10;c&#13;def\xef\xbf\xbd\"");
	CHECK_PY(xml, XML_LOAD,
		 {"d.find('testcase').get('classname')", "'a\\tb\\nc\\rdef\\ufffd'"});
	free(xml);
}

/* ---- SARIF ------------------------------------------------------------------------------- */

/* Validates against the real SARIF 2.1.0 schema when the integration tests have installed it;
 * the structural checks above run either way. */
static void validate_with_schema(const char *doc)
{
	struct stat st;

	if (stat(SARIF_VALIDATOR_DIR "/node_modules/ajv", &st) != 0 ||
	    stat(SARIF_VALIDATOR_JS, &st) != 0) {
		fprintf(stderr,
			"note: SARIF schema validator not installed (%s); structural "
			"checks only\n",
			SARIF_VALIDATOR_DIR);
		return;
	}
	char *path = temp_file("sarif", doc);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "node %s %s %s", SARIF_VALIDATOR_JS, SARIF_VALIDATOR_DIR, path);
	int status = system(cmd);
	unlink(path);
	free(path);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_error("the SARIF log does not validate against the schema:\n%s\n", doc);
		fail();
	}
}

static void test_sarif_structure(void **state)
{
	(void)state;
	struct report_race races[2] = {make_race("nova.context", "CELL_CACHE", "uuid-1"),
				       make_race("__main__", "GENERATION", NULL)};
	races[1].occurrences = 1;
	struct report r = make_report(races, 2);
	char *sarif = render(report_write_sarif, &r);
	char id0[32];

	snprintf(id0, sizeof id0, "'%s'", races[0].id);
	CHECK_PY(
	    sarif, JSON_LOAD, {"d['version']", "'2.1.0'"},
	    {"d['$schema']", "'https://json.schemastore.org/sarif-2.1.0.json'"},
	    {"len(d['runs'])", "1"},
	    {"{k: v for k, v in d['runs'][0]['tool']['driver'].items() if k != 'rules'}",
	     "{'name': 'pyrace', 'version': '0.1.0', 'semanticVersion': '0.1.0'}"},
	    {"[r['id'] for r in d['runs'][0]['tool']['driver']['rules']]",
	     "['data-race', 'lock-order-inversion']"},
	    {"d['runs'][0]['tool']['driver']['rules'][0]['defaultConfiguration']",
	     "{'level': 'error'}"},
	    {"'informationUri' in json.dumps(d)", "False"},
	    {"d['runs'][0]['invocations']", "[{'executionSuccessful': True}]"},
	    {"len(d['runs'][0]['results'])", "2"},
	    {"[(x['ruleId'], x['ruleIndex'], x['level']) for x in d['runs'][0]['results']]",
	     "[('data-race', 0, 'error'), ('data-race', 0, 'error')]"},
	    {"d['runs'][0]['results'][0]['message']['text']",
	     "'Data race on nova.context.CELL_CACHE[\\'uuid-1\\'] (read-write): write by thread "
	     "\"Thread-2 (worker)\" (tid 4250) at /srv/app/nova/context.py:358 in "
	     "set_target_cell; previous read by thread \"Thread-1 (worker)\" (tid 4249) at "
	     "/srv/app/nova/cells.py:12 in load_cells. Seen 3 times.'"},
	    {"d['runs'][0]['results'][0]['partialFingerprints']['pyraceRaceId/v1']", id0},
	    {"d['runs'][0]['results'][0]['locations']",
	     "[{'physicalLocation': {'artifactLocation': {'uri': "
	     "'file:///srv/app/nova/context.py'}, 'region': {'startLine': 358}}, "
	     "'logicalLocations': [{'fullyQualifiedName': 'set_target_cell', 'kind': "
	     "'function'}]}]"},
	    {"d['runs'][0]['results'][0]['relatedLocations'][0]['physicalLocation']",
	     "{'artifactLocation': {'uri': 'file:///srv/app/nova/cells.py'}, 'region': "
	     "{'startLine': 12}}"},
	    {"d['runs'][0]['results'][0]['occurrenceCount']", "3"},
	    /* one thread flow per access, current first; frames outermost first */
	    {"[t['id'] for t in d['runs'][0]['results'][0]['codeFlows'][0]['threadFlows']]",
	     "['current', 'previous']"},
	    {"[(l['nestingLevel'], l['location']['logicalLocations'][0]['fullyQualifiedName'], "
	     "l['location']['physicalLocation']['region']['startLine']) for l in "
	     "d['runs'][0]['results'][0]['codeFlows'][0]['threadFlows'][0]['locations']]",
	     "[(0, 'Thread.run', 975), (1, 'Handler.do_GET', 41), (2, 'set_target_cell', 358)]"},
	    {"d['runs'][0]['results'][0]['codeFlows'][0]['threadFlows'][0]['locations'][-1]"
	     "['location']['message']['text']",
	     "'Write of nova.context.CELL_CACHE[\\'uuid-1\\'] by thread \"Thread-2 (worker)\" "
	     "(tid 4250); locks held: __main__.LOCK'"},
	    {"d['runs'][0]['results'][0]['codeFlows'][0]['threadFlows'][1]['message']['text']",
	     "'Previous read of nova.context.CELL_CACHE[\\'uuid-1\\'] by thread \"Thread-1 "
	     "(worker)\" (tid 4249); locks held: none'"},
	    {"d['runs'][0]['results'][0]['codeFlows'][0]['threadFlows'][0]['properties']",
	     "{'op': 'write', 'tid': 4250, 'thread': 'Thread-2 (worker)', 'locks_held': "
	     "['__main__.LOCK']}"},
	    /* stacks: innermost first */
	    {"[[f['location']['logicalLocations'][0]['fullyQualifiedName'] for f in "
	     "s['frames']] for s in d['runs'][0]['results'][0]['stacks']]",
	     "[['set_target_cell', 'Handler.do_GET', 'Thread.run'], ['load_cells']]"},
	    {"d['runs'][0]['results'][0]['stacks'][1]['frames'][0]['threadId']", "4249"},
	    {"d['runs'][0]['results'][0]['properties']['variable']",
	     "\"nova.context.CELL_CACHE['uuid-1']\""},
	    {"d['runs'][0]['results'][1]['message']['text'].endswith('load_cells.')", "True"},
	    {"'occurrenceCount' in d['runs'][0]['results'][1]", "True"},
	    {"(d['runs'][0]['properties']['suppressed'], d['runs'][0]['properties']['baselined'])",
	     "(1, 2)"});
	validate_with_schema(sarif);
	free(sarif);
}

static void test_sarif_odd_paths_and_frames(void **state)
{
	(void)state;
	static const struct report_frame odd[] = {
	    {"/srv/my app/caf\xc3\xa9 #1?%.py", "f", 3},
	    {"<frozen importlib._bootstrap>", "_find_and_load", 1178},
	    {"relative/dir/x:y.py", "g", -1},
	    {NULL, NULL, -1},
	    {"", "h", 0},
	};
	struct report_race race = make_race("m", "K", "bad\xff\x01key");
	race.current.stack.frames = odd;
	race.current.stack.nframes = ARRAY_LEN(odd);
	race.current.stack.truncated = 1;
	race.current.thread.name = NULL;
	race.previous.stack.nframes = 0; /* no Python frames */
	race.kind = NULL;
	struct report r = make_report(&race, 1);
	r.stats.lost_events = 3;
	r.stats.ended_early = 1;
	char *sarif = render(report_write_sarif, &r);

	CHECK_PY(
	    sarif, JSON_LOAD,
	    {"[f['location'].get('physicalLocation', {}).get('artifactLocation', {}).get('uri') "
	     "for f in d['runs'][0]['results'][0]['stacks'][0]['frames']]",
	     "['file:///srv/my%20app/caf%C3%A9%20%231%3F%25.py', None, "
	     "'relative/dir/x%3Ay.py', None, None]"},
	    {"[f['location'].get('physicalLocation', {}).get('region') for f in "
	     "d['runs'][0]['results'][0]['stacks'][0]['frames']]",
	     "[{'startLine': 3}, None, None, None, None]"},
	    {"d['runs'][0]['results'][0]['stacks'][0]['frames'][1]['location']"
	     "['logicalLocations']",
	     "[{'fullyQualifiedName': '_find_and_load', 'kind': 'function'}]"},
	    {"d['runs'][0]['results'][0]['stacks'][0]['frames'][3]['location']", "{}"},
	    {"d['runs'][0]['results'][0]['codeFlows'][0]['threadFlows'][1]['locations']",
	     "[{'location': {'message': {'text': 'no Python frames'}}}]"},
	    {"'relatedLocations' in d['runs'][0]['results'][0]", "False"},
	    {"d['runs'][0]['results'][0]['stacks'][1]['frames']", "[]"},
	    {"d['runs'][0]['results'][0]['codeFlows'][0]['threadFlows'][0]['properties']"
	     "['stack_truncated']",
	     "True"},
	    {"d['runs'][0]['results'][0]['message']['text']",
	     "'Data race on m.K[\\'bad\\ufffd\\\\x01key\\']: write by thread (tid 4250) at "
	     "/srv/my app/caf\\xe9 #1?%.py:3 in f; previous read by thread \"Thread-1 (worker)\" "
	     "(tid 4249). Seen 3 times.'"},
	    {"d['runs'][0]['invocations'][0]['toolExecutionNotifications'][0]['message']['text']",
	     "'results are incomplete: 3 events could not be delivered by the kernel and the "
	     "trace ended before the program did; races may be missing'"},
	    {"d['runs'][0]['results'][0]['properties']['key']", "'bad\\ufffd\\x01key'"});
	validate_with_schema(sarif);
	free(sarif);

	struct report empty = {0};
	sarif = render(report_write_sarif, &empty);
	CHECK_PY(sarif, JSON_LOAD, {"d['runs'][0]['results']", "[]"},
		 {"d['runs'][0]['properties']['python_version']", "None"});
	validate_with_schema(sarif);
	free(sarif);
}

static void test_formats_write_errors(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	struct report_race race = make_race("m", "X", NULL);
	struct report r = make_report(&race, 1);
	assert_int_not_equal(report_write_sarif(&r, f), 0);
	clearerr(f);
	assert_int_not_equal(report_write_junit(&r, f), 0);
	fclose(f);
}

/* ---- json_read --------------------------------------------------------------------------- */

static struct json_value *parse(const char *text, char *err, size_t errlen)
{
	return json_parse(text, strlen(text), NULL, err, errlen);
}

static void parse_fails(const char *text, const char *want)
{
	char err[512] = "";
	struct json_value *v = parse(text, err, sizeof err);
	if (v || strcmp(err, want) != 0)
		print_error("input: %s\n", text);
	assert_null(v);
	assert_string_equal(err, want);
}

static void test_json_read_valid(void **state)
{
	(void)state;
	char err[256] = "x";
	struct json_value *v = parse(
	    " {\"a\": [1, -0, 2.5e3, -1.25E-2, 0.1, 1e308, 123456789012345678901234567890, "
	    "true, false, null, {}, []],\n\t\"s\": \"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u2603"
	    "\\ud83d\\udc0d\\u0000end\", \"caf\xc3\xa9\": \"\xf0\x9f\x90\x8d\", \"a\": 2} \r\n",
	    err, sizeof err);

	assert_non_null(v);
	assert_string_equal(err, "");
	assert_int_equal(v->type, JSON_OBJECT);
	assert_int_equal(v->u.object.n, 4);
	const struct json_value *a = json_get(v, "a"); /* the first of two */
	assert_non_null(a);
	assert_int_equal(a->type, JSON_ARRAY);
	assert_int_equal(a->u.array.n, 12);
	assert_true(a->u.array.items[0].u.number == 1);
	assert_true(a->u.array.items[1].u.number == 0);
	assert_true(a->u.array.items[2].u.number == 2500);
	assert_true(a->u.array.items[3].u.number == -0.0125);
	assert_true(a->u.array.items[4].u.number == 0.1);
	assert_true(a->u.array.items[5].u.number == 1e308);
	assert_true(a->u.array.items[6].u.number > 1.2e29);
	assert_int_equal(a->u.array.items[7].type, JSON_TRUE);
	assert_int_equal(a->u.array.items[8].type, JSON_FALSE);
	assert_int_equal(a->u.array.items[9].type, JSON_NULL);
	assert_int_equal(a->u.array.items[10].type, JSON_OBJECT);
	assert_int_equal(a->u.array.items[10].u.object.n, 0);
	assert_int_equal(a->u.array.items[11].type, JSON_ARRAY);
	assert_int_equal(a->u.array.items[11].u.array.n, 0);
	const struct json_value *s = json_get(v, "s");
	static const char want[] = "q\"\\/\b\f\n\r\t\xc3\xa9\xe2\x98\x83\xf0\x9f\x90\x8d\0end";
	assert_int_equal(s->u.string.len, sizeof want - 1);
	assert_memory_equal(s->u.string.s, want, sizeof want);
	assert_string_equal(json_string(json_get(v, "caf\xc3\xa9")), "\xf0\x9f\x90\x8d");
	assert_null(json_get(v, "missing"));
	assert_null(json_get(a, "a"));
	assert_null(json_string(a));
	assert_null(json_string(NULL));
	json_free(v);

	/* scalars at the top level */
	v = parse("\"\"", err, sizeof err);
	assert_int_equal(v->type, JSON_STRING);
	assert_int_equal(v->u.string.len, 0);
	json_free(v);
	v = parse("-0.0e+0", err, sizeof err);
	assert_int_equal(v->type, JSON_NUMBER);
	json_free(v);
	v = parse("1e-400", err, sizeof err); /* underflows to 0: still a number */
	assert_true(v->u.number == 0);
	json_free(v);
	json_free(NULL);
}

static void test_json_read_errors(void **state)
{
	(void)state;
	parse_fails("", "line 1, column 1: unexpected end of input, expected a value");
	parse_fails("   \n ", "line 2, column 2: unexpected end of input, expected a value");
	parse_fails("\xef\xbb\xbf{}", "line 1, column 1: unexpected byte 0xef, expected a value");
	parse_fails("{} x", "line 1, column 4: unexpected data after the document");
	parse_fails("{}{}", "line 1, column 3: unexpected data after the document");
	parse_fails("[1,]", "line 1, column 4: unexpected ']', expected a value");
	parse_fails("{\"a\":1,}", "line 1, column 8: unexpected '}', expected a string key");
	parse_fails("{a:1}", "line 1, column 2: unexpected 'a', expected a string key");
	parse_fails("{\"a\" 1}", "line 1, column 6: unexpected '1', expected ':'");
	parse_fails("[1 2]", "line 1, column 4: unexpected '2', expected ',' or ']'");
	parse_fails("{\"a\":1 \"b\":2}", "line 1, column 8: unexpected '\"', expected ',' or '}'");
	parse_fails("// c\n{}", "line 1, column 1: unexpected '/', expected a value");
	parse_fails("'a'", "line 1, column 1: unexpected ''', expected a value");
	/* literals and numbers */
	parse_fails("tru", "line 1, column 1: invalid literal, expected true");
	parse_fails("nul", "line 1, column 1: invalid literal, expected null");
	parse_fails("True", "line 1, column 1: unexpected 'T', expected a value");
	parse_fails("NaN", "line 1, column 1: unexpected 'N', expected a value");
	parse_fails("-Infinity", "line 1, column 2: unexpected 'I', expected a digit");
	parse_fails("+1", "line 1, column 1: unexpected '+', expected a value");
	parse_fails(".5", "line 1, column 1: unexpected '.', expected a value");
	parse_fails("01", "line 1, column 2: leading zero in a number");
	parse_fails("-01", "line 1, column 3: leading zero in a number");
	parse_fails("1.", "line 1, column 3: unexpected end of input, expected a digit after '.'");
	parse_fails("1.e5", "line 1, column 3: unexpected 'e', expected a digit after '.'");
	parse_fails("1e", "line 1, column 3: unexpected end of input, expected a digit in the "
			  "exponent");
	parse_fails("1e+", "line 1, column 4: unexpected end of input, expected a digit in the "
			   "exponent");
	parse_fails("0x10", "line 1, column 2: unexpected data after the document");
	parse_fails("[1e999]", "line 1, column 2: number out of range");
	parse_fails("-1e309", "line 1, column 1: number out of range");
	/* strings */
	parse_fails("\"abc", "line 1, column 5: unterminated string");
	parse_fails("\"abc\\\"", "line 1, column 7: unterminated string");
	parse_fails("\"a\\x\"", "line 1, column 4: bad escape '\\x'");
	parse_fails("\"a\\'\"", "line 1, column 4: bad escape '\\''");
	parse_fails("\"\\u12\"", "line 1, column 4: bad \\u escape: expected 4 hex digits");
	parse_fails("\"\\u12g4\"", "line 1, column 4: bad \\u escape: expected 4 hex digits");
	parse_fails("\"\\ud83d\"",
		    "line 1, column 8: high surrogate \\ud83d not followed by a low one");
	parse_fails("\"\\ud83d\\u0041\"",
		    "line 1, column 8: high surrogate \\ud83d not followed by a low one");
	parse_fails("\"\\udc0d\"", "line 1, column 8: lone low surrogate \\udc0d");
	parse_fails("\"tab\there\"", "line 1, column 5: raw control character 0x09 in a string");
	parse_fails("\"new\nline\"", "line 1, column 5: raw control character 0x0a in a string");
	parse_fails("\"bad \xff\"", "line 1, column 6: invalid UTF-8 in a string");
	parse_fails("\"overlong \xc0\xaf\"", "line 1, column 11: invalid UTF-8 in a string");
	parse_fails("\"surrogate \xed\xa0\x80\"", "line 1, column 12: invalid UTF-8 in a string");
	parse_fails("\"cut \xe2\x98\"", "line 1, column 6: invalid UTF-8 in a string");
	parse_fails("{\"k\xff\":1}", "line 1, column 4: invalid UTF-8 in a string");
	parse_fails("[\n  1,\n  x]", "line 3, column 3: unexpected 'x', expected a value");
}

/* Every proper prefix of a valid document is an error, never a crash or a success. */
static void test_json_read_truncated(void **state)
{
	(void)state;
	static const char doc[] = "{\"schema\": \"pyrace-report/1\", \"races\": [{\"id\": "
				  "\"0123456789abcdef\", \"n\": -12.5e-3, \"t\": [true, false, "
				  "null], \"s\": \"\\u00e9\\ud83d\\udc0d\\n\"}], \"x\": {}}";
	char err[256];

	for (size_t len = 0; len < sizeof doc - 1; len++) {
		char *copy = malloc(len ? len : 1); /* exactly len bytes: ASan sees any overread */
		assert_non_null(copy);
		memcpy(copy, doc, len);
		struct json_value *v = json_parse(copy, len, NULL, err, sizeof err);
		if (v)
			print_error("prefix of %zu bytes parsed\n", len);
		assert_null(v);
		assert_true(strncmp(err, "line 1, column ", 15) == 0);
		free(copy);
	}
	struct json_value *v = json_parse(doc, sizeof doc - 1, NULL, err, sizeof err);
	assert_non_null(v);
	json_free(v);
}

static char *repeat(const char *unit, size_t times, const char *tail)
{
	size_t ul = strlen(unit), tl = strlen(tail);
	char *s = malloc(ul * times + tl + 1);
	assert_non_null(s);
	for (size_t i = 0; i < times; i++)
		memcpy(s + i * ul, unit, ul);
	memcpy(s + ul * times, tail, tl + 1);
	return s;
}

static void test_json_read_limits(void **state)
{
	(void)state;
	char err[256];
	struct json_value *v;

	/* nesting: the default limit, then a lower one, arrays and objects alike */
	char *deep = repeat("[", JSON_READ_MAX_DEPTH, "");
	char *close = repeat("]", JSON_READ_MAX_DEPTH, "");
	char *ok = NULL;
	assert_true(asprintf(&ok, "%s%s", deep, close) > 0);
	v = parse(ok, err, sizeof err);
	assert_non_null(v);
	json_free(v);
	free(ok);
	free(deep);
	free(close);
	deep = repeat("[", 100000, ""); /* far deeper than any stack would bear */
	parse_fails(deep, "line 1, column 65: nesting deeper than 64");
	free(deep);
	deep = repeat("{\"a\":", 70, "1");
	v = parse(deep, err, sizeof err);
	assert_null(v);
	assert_string_equal(err, "line 1, column 321: nesting deeper than 64");
	free(deep);
	struct json_limits shallow = {.max_depth = 2};
	v = json_parse("[[1]]", 5, &shallow, err, sizeof err);
	assert_non_null(v);
	json_free(v);
	v = json_parse("[[[1]]]", 7, &shallow, err, sizeof err);
	assert_null(v);
	assert_string_equal(err, "line 1, column 3: nesting deeper than 2");

	/* size */
	struct json_limits small = {.max_size = 8};
	v = json_parse("[1,2,3]", 7, &small, err, sizeof err);
	assert_non_null(v);
	json_free(v);
	v = json_parse("[1,2,3,4]", 9, &small, err, sizeof err);
	assert_null(v);
	assert_string_equal(err, "larger than 8 bytes");

	/* huge numbers: many digits are fine while they fit a double, not past it */
	char *digits = repeat("9", 300, "");
	v = parse(digits, err, sizeof err);
	assert_non_null(v);
	assert_true(v->u.number > 9e299);
	json_free(v);
	free(digits);
	digits = repeat("9", 400, "");
	parse_fails(digits, "line 1, column 1: number out of range");
	free(digits);
	digits = repeat("0", 100000, "");
	char *frac = NULL;
	assert_true(asprintf(&frac, "0.%s1", digits) > 0);
	v = parse(frac, err, sizeof err);
	assert_non_null(v);
	assert_true(v->u.number == 0);
	json_free(v);
	free(frac);
	free(digits);

	/* many members and a long string */
	char *wide = repeat("{\"k\":\"v\"},", 20000, "null]");
	char *arr = NULL;
	assert_true(asprintf(&arr, "[%s", wide) > 0);
	v = parse(arr, err, sizeof err);
	assert_non_null(v);
	assert_int_equal(v->u.array.n, 20001);
	json_free(v);
	free(arr);
	free(wide);
	char *esc = repeat("\\u00e9", 50000, "\"");
	char *str = NULL;
	assert_true(asprintf(&str, "\"%s", esc) > 0);
	v = parse(str, err, sizeof err);
	assert_non_null(v);
	assert_int_equal(v->u.string.len, 100000);
	json_free(v);
	free(str);
	free(esc);
}

static void test_json_read_file(void **state)
{
	(void)state;
	char err[512];
	char *path = temp_file("json", "{\"a\": [1, 2]}\n");
	struct json_value *v = json_parse_file(path, NULL, err, sizeof err);
	assert_non_null(v);
	json_free(v);
	struct json_limits small = {.max_size = 4};
	v = json_parse_file(path, &small, err, sizeof err);
	assert_null(v);
	char want[256];
	snprintf(want, sizeof want, "%s: larger than 4 bytes", path);
	assert_string_equal(err, want);
	unlink(path);
	free(path);

	path = temp_file("json", "{\"a\": [1, 2}\n");
	v = json_parse_file(path, NULL, err, sizeof err);
	assert_null(v);
	snprintf(want, sizeof want, "%s: line 1, column 12: unexpected '}', expected ',' or ']'",
		 path);
	assert_string_equal(err, want);
	unlink(path);
	free(path);

	v = json_parse_file("/nonexistent.json", NULL, err, sizeof err);
	assert_null(v);
	assert_string_equal(err, "cannot read /nonexistent.json: No such file or directory");
	v = json_parse_file("/tmp", NULL, err, sizeof err);
	assert_null(v);
	assert_string_equal(err, "cannot read /tmp: Is a directory");
}

/* What report_write_json writes, json_read reads back: the round trip of a baseline. */
static void test_json_read_round_trip(void **state)
{
	(void)state;
	static const struct report_frame odd[] = {{"/p/\xff\x01\"q\".py", "f\\g", -1}};
	struct report_race races[2] = {make_race("nova.context", "CELL_CACHE", "k\"\\\n\x01\xc3"),
				       make_race("__main__", "GENERATION", NULL)};
	races[1].current.stack.frames = odd;
	races[1].current.stack.nframes = 1;
	struct report r = make_report(races, 2);
	r.stats.duration_s = NAN;
	char *json = render(report_write_json, &r);
	char err[256];
	struct json_value *v = json_parse(json, strlen(json), NULL, err, sizeof err);

	if (!v)
		print_error("%s\n%s\n", err, json);
	assert_non_null(v);
	assert_string_equal(json_string(json_get(v, "schema")), "pyrace-report/1");
	const struct json_value *rs = json_get(v, "races");
	assert_int_equal(rs->u.array.n, 2);
	assert_string_equal(json_string(json_get(&rs->u.array.items[0], "id")), races[0].id);
	assert_string_equal(
	    json_string(json_get(json_get(&rs->u.array.items[0], "variable"), "key")),
	    "k\"\\\n\x01\xef\xbf\xbd");
	const struct json_value *top =
	    &json_get(json_get(&rs->u.array.items[1], "current"), "stack")->u.array.items[0];
	assert_string_equal(json_string(json_get(top, "file")), "/p/\xef\xbf\xbd\x01\"q\".py");
	assert_true(json_get(top, "line")->u.number == -1);
	assert_int_equal(json_get(json_get(v, "stats"), "duration_s")->type, JSON_NULL);
	assert_true(json_get(v, "baselined")->u.number == 2);
	json_free(v);
	free(json);
}

/* ---- baselines --------------------------------------------------------------------------- */

static char *write_report(const struct report *r)
{
	char *json = render(report_write_json, r);
	char *path = temp_file("baseline", json);
	free(json);
	return path;
}

static void test_baseline_load(void **state)
{
	(void)state;
	struct report_race races[3] = {make_race("nova.context", "CELL_CACHE", "k\x1b[2J"),
				       make_race("__main__", "GENERATION", NULL),
				       make_race("__main__", "OTHER", NULL)};
	struct report r = make_report(races, 2);
	char *path = write_report(&r);
	struct baseline b = {0};
	char err[512];

	assert_int_equal(baseline_load(&b, path, err, sizeof err), 0);
	assert_int_equal(b.n, 2);
	assert_true(baseline_has(&b, races[0].id));
	assert_true(baseline_has(&b, races[1].id));
	assert_false(baseline_has(&b, races[2].id));
	assert_false(baseline_has(&b, ""));
	assert_false(baseline_has(&b, "0123456789abcdef0"));
	assert_true(strcmp(b.races[0].id, b.races[1].id) < 0);
	const struct baseline_race *cache =
	    strcmp(b.races[0].id, races[0].id) == 0 ? &b.races[0] : &b.races[1];
	assert_string_equal(cache->summary, "nova.context.CELL_CACHE['k\\x1b[2J'] (read-write) at "
					    "/srv/app/nova/context.py:358 in set_target_cell");
	/* loading the same file again adds nothing; a second file adds its own */
	assert_int_equal(baseline_load(&b, path, err, sizeof err), 0);
	assert_int_equal(b.n, 2);
	unlink(path);
	free(path);
	r = make_report(&races[2], 1);
	path = write_report(&r);
	assert_int_equal(baseline_load(&b, path, err, sizeof err), 0);
	assert_int_equal(b.n, 3);
	assert_true(baseline_has(&b, races[2].id));
	unlink(path);
	free(path);
	baseline_free(&b);
	assert_int_equal(b.n, 0);
}

static void baseline_fails(const char *doc, const char *want_after_path)
{
	char *path = temp_file("baseline", doc);
	struct baseline b = {0};
	char err[512], want[512];

	assert_int_equal(baseline_load(&b, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: %s", path, want_after_path);
	assert_string_equal(err, want);
	assert_int_equal(b.n, 0);
	unlink(path);
	free(path);
}

static void test_baseline_errors(void **state)
{
	(void)state;
	baseline_fails("[]", "not a pyrace report (not a JSON object)");
	baseline_fails("{\"races\": []}", "not a pyrace report (schema is not pyrace-report/1)");
	baseline_fails("{\"schema\": \"pyrace-report/2\", \"races\": []}",
		       "not a pyrace report (schema is not pyrace-report/1)");
	baseline_fails("{\"schema\": \"pyrace-report/1\"}", "\"races\" is missing or not an array");
	baseline_fails("{\"schema\": \"pyrace-report/1\", \"races\": {}}",
		       "\"races\" is missing or not an array");
	baseline_fails("{\"schema\": \"pyrace-report/1\", \"races\": [{\"id\": "
		       "\"0123456789abcdef\"}, {\"id\": \"0123456789ABCDEF\"}]}",
		       "races[1] has no valid \"id\" (16 hex digits)");
	baseline_fails("{\"schema\": \"pyrace-report/1\", \"races\": [{\"id\": 12}]}",
		       "races[0] has no valid \"id\" (16 hex digits)");
	baseline_fails("{\"schema\": \"pyrace-report/1\", \"races\": [\"0123456789abcdef\"]}",
		       "races[0] has no valid \"id\" (16 hex digits)");
	baseline_fails("{\"schema\": \"pyrace-report/1\", \"races\": [{\"id\": "
		       "\"0123456789abcde\\u0000\"}]}",
		       "races[0] has no valid \"id\" (16 hex digits)");
	baseline_fails("{\"schema\": \"pyrace-report/1\", \"races\": [", /* truncated */
		       "line 1, column 41: unexpected end of input, expected a value");

	/* a minimal hand-written report: summaries show what is there */
	char *path = temp_file("baseline", "{\"schema\": \"pyrace-report/1\", \"races\": [{\"id\": "
					   "\"00000000000000ff\"}, {\"id\": \"0000000000000001\", "
					   "\"variable\": 3, \"current\": {\"stack\": [{}]}}]}");
	struct baseline b = {0};
	char err[256];
	assert_int_equal(baseline_load(&b, path, err, sizeof err), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.races[0].id, "0000000000000001");
	assert_string_equal(b.races[0].summary, "?.? at ?:? in ?");
	assert_string_equal(b.races[1].summary, "?.?");
	baseline_free(&b);
	unlink(path);
	free(path);
}

int main(void)
{
	/* if python3 dies before reading the document, fail the check rather than the process */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_junit_structure),
	    cmocka_unit_test(test_junit_names_tests),
	    cmocka_unit_test(test_thread_creation_site),
	    cmocka_unit_test(test_junit_no_races),
	    cmocka_unit_test(test_junit_escaping),
	    cmocka_unit_test(test_sarif_structure),
	    cmocka_unit_test(test_sarif_odd_paths_and_frames),
	    cmocka_unit_test(test_formats_write_errors),
	    cmocka_unit_test(test_json_read_valid),
	    cmocka_unit_test(test_json_read_errors),
	    cmocka_unit_test(test_json_read_truncated),
	    cmocka_unit_test(test_json_read_limits),
	    cmocka_unit_test(test_json_read_file),
	    cmocka_unit_test(test_json_read_round_trip),
	    cmocka_unit_test(test_baseline_load),
	    cmocka_unit_test(test_baseline_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
