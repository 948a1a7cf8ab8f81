/* Checks the report renderers: JSON that Python parses and that follows the contract whatever
 * bytes the traced program put in its keys, the ThreadSanitizer-style text, variable names and
 * race ids that stay stable when the code moves. */
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
#include <sys/wait.h>
#include <unistd.h>

#include "json_write.h"
#include "report.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ---------------------------------------------------------------------------- */

static const struct report_frame cur_frames[] = {
    {"/path/examples/cell_cache.py", "load_cells", 42},
    {"/path/examples/cell_cache.py", "handle", 80},
};
static const struct report_frame prev_frames[] = {
    {"/path/examples/cell_cache.py", "load_cells", 44},
};
static const char *const main_lock[] = {"__main__.LOCK"};
static const char *const two_locks[] = {"__main__.LOCK", "lock@0x7f3a1c2b9e40"};
static const char *const argv2[] = {"python3", "app.py"};

static struct report_access access_of(const char *op, uint32_t tid, const char *thread,
				      const struct report_frame *frames, size_t nframes,
				      const char *const *locks, size_t nlocks)
{
	struct report_access a = {
	    .op = op,
	    .thread = {.tid = tid, .name = thread},
	    .locks_held = locks,
	    .nlocks = nlocks,
	    .stack = {.frames = frames, .nframes = nframes},
	};
	return a;
}

/* The race of the text example in the brief: a global rebound by two threads. */
static struct report_race example_race(void)
{
	struct report_race r = {
	    .id = "9f2c6a1b4e7d0c35",
	    .kind = "write-write",
	    .variable = {.module = "__main__", .name = "CELLS", .container = "global"},
	    .occurrences = 3,
	};
	r.current = access_of("write", 4250, "Thread-2 (handle)", cur_frames, 2, NULL, 0);
	r.previous = access_of("write", 4249, "Thread-1 (handle)", prev_frames, 1, main_lock, 1);
	return r;
}

static struct report_race dict_race(const char *key, const char *key_type)
{
	struct report_race r = {
	    .kind = "read-write",
	    .variable = {.module = "nova.context",
			 .name = "CELL_CACHE",
			 .container = "dict",
			 .key = key,
			 .key_type = key ? key_type : NULL},
	    .occurrences = 1,
	};
	r.current = access_of("write", 11, "Thread-2 (worker)", cur_frames, 2, two_locks, 2);
	r.previous = access_of("read", 12, "Thread-1 (worker)", prev_frames, 1, NULL, 0);
	report_race_compute_id(&r);
	return r;
}

static struct report base_report(const struct report_race *races, size_t nraces)
{
	struct report r = {
	    .target = {.pid = 4242,
		       .argv = argv2,
		       .argc = 2,
		       .python_version = "3.11.2",
		       .executable = "/usr/bin/python3.11",
		       .build = "release"},
	    .stats = {.events = 18234,
		      .lost_events = 0,
		      .threads = 4,
		      .watched_dicts = 57,
		      .truncated_stacks = 2,
		      .unresolved_frames = 5,
		      .duration_s = 1.93},
	    .races = races,
	    .nraces = nraces,
	};
	return r;
}

/* ---- helpers ----------------------------------------------------------------------------- */

static char *render_json(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(report_write_json(r, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strlen(buf), len); /* no NUL byte inside */
	return buf;
}

static char *render_text(const struct report *r, int color)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	report_write_text(r, f, color);
	assert_int_equal(fclose(f), 0);
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

struct check {
	const char *expr; /* Python expression over d, the parsed document */
	const char *want; /* its ascii() */
};

/* Pipes the document into python3, which must decode it as strict UTF-8 and parse it as JSON,
 * then prints ascii() of each expression, one a line, for comparing here. The script goes in a
 * file so that expressions need no shell quoting. */
static void check_json(const char *json, const struct check *checks, size_t n)
{
	char script[] = "/tmp/pyrace-test-py-XXXXXX";
	char outpath[] = "/tmp/pyrace-test-out-XXXXXX";
	int sfd = mkstemp(script), ofd = mkstemp(outpath);
	char cmd[256];

	assert_true(sfd >= 0 && ofd >= 0);
	close(ofd);
	FILE *s = fdopen(sfd, "w");
	assert_non_null(s);
	fputs("import json, sys\n"
	      "d = json.loads(sys.stdin.buffer.read().decode('utf-8', 'strict'))\n",
	      s);
	for (size_t i = 0; i < n; i++)
		fprintf(s, "print(ascii(%s))\n", checks[i].expr);
	assert_int_equal(fclose(s), 0);

	snprintf(cmd, sizeof cmd, "python3 %s > %s 2>&1", script, outpath);
	FILE *p = popen(cmd, "w");
	assert_non_null(p);
	fputs(json, p);
	int status = pclose(p);
	char *out = slurp(outpath);
	unlink(script);
	unlink(outpath);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		print_error("python3 rejected the document:\n%s\n--- document ---\n%s\n", out,
			    json);
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

#define CHECK_JSON(json, ...)                                                                      \
	do {                                                                                       \
		const struct check checks_[] = {__VA_ARGS__};                                      \
		check_json(json, checks_, ARRAY_LEN(checks_));                                     \
	} while (0)

/* `b'\x..\x..'`: the exact bytes as a Python literal, whatever they are. */
static void py_bytes(const char *s, char *buf, size_t len)
{
	size_t pos = (size_t)snprintf(buf, len, "b'");

	for (const unsigned char *p = (const unsigned char *)s; *p && pos + 5 < len; p++)
		pos += (size_t)snprintf(buf + pos, len - pos, "\\x%02x", *p);
	assert_true(pos + 2 < len);
	snprintf(buf + pos, len - pos, "'");
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned int c = *p, need, cp;
		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		for (unsigned int k = 1; k <= need; k++) {
			if ((p[k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[k] & 0x3f);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += need + 1;
	}
	return true;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		print_error("missing:\n%s\n--- in ---\n%s\n", needle, hay);
	assert_non_null(strstr(hay, needle));
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		print_error("unexpected:\n%s\n--- in ---\n%s\n", needle, hay);
	assert_null(strstr(hay, needle));
}

/* ---- JSON -------------------------------------------------------------------------------- */

static void test_json_contract(void **state)
{
	(void)state;
	struct report_race races[2] = {dict_race("8f6a1a2e", "str"), example_race()};
	races[0].current.stack.truncated = 1;
	races[0].occurrences = 7;
	struct report r = base_report(races, 2);
	r.suppressed = 4;
	r.stats.ended_early = 1;
	char *json = render_json(&r);
	char id_want[32];

	snprintf(id_want, sizeof id_want, "'%s'", races[0].id);
	CHECK_JSON(
	    json,
	    {"sorted(d)", "['baselined', 'deadlocks', 'races', 'schema', 'stats', 'suppressed', "
			  "'target', 'tool']"},
	    {"d['schema']", "'pyrace-report/1'"},
	    {"d['tool']", "{'name': 'pyrace', 'version': '0.1.0'}"},
	    {"sorted(d['target'])", "['argv', 'pid', 'python']"}, {"d['target']['pid']", "4242"},
	    {"d['target']['argv']", "['python3', 'app.py']"},
	    {"d['target']['python']",
	     "{'version': '3.11.2', 'executable': '/usr/bin/python3.11', 'build': 'release'}"},
	    {"d['stats']", "{'events': 18234, 'lost_events': 0, 'threads': 4, 'duration_s': 1.93, "
			   "'watched_dicts': 57, 'truncated_stacks': 2, 'unresolved_frames': 5, "
			   "'ended_early': True, 'reads_recorded': True}"},
	    {"len(d['races'])", "2"},
	    {"sorted(d['races'][0])",
	     "['current', 'id', 'kind', 'occurrences', 'previous', 'variable']"},
	    {"d['races'][0]['id']", id_want}, {"d['races'][0]['kind']", "'read-write'"},
	    {"d['races'][0]['variable']",
	     "{'module': 'nova.context', 'name': 'CELL_CACHE', "
	     "'container': 'dict', 'key': '8f6a1a2e', 'key_type': 'str'}"},
	    {"sorted(d['races'][0]['current'])",
	     "['locks_held', 'op', 'stack', 'stack_truncated', 'thread']"},
	    {"d['races'][0]['current']['op']", "'write'"},
	    {"d['races'][0]['current']['thread']", "{'tid': 11, 'name': 'Thread-2 (worker)'}"},
	    {"d['races'][0]['current']['locks_held']", "['__main__.LOCK', 'lock@0x7f3a1c2b9e40']"},
	    {"d['races'][0]['current']['stack']",
	     "[{'file': '/path/examples/cell_cache.py', 'function': 'load_cells', 'line': 42}, "
	     "{'file': '/path/examples/cell_cache.py', 'function': 'handle', 'line': 80}]"},
	    {"d['races'][0]['current']['stack_truncated']", "True"},
	    {"sorted(d['races'][0]['previous'])", "['locks_held', 'op', 'stack', 'thread']"},
	    {"d['races'][0]['previous']['op']", "'read'"},
	    {"d['races'][0]['previous']['locks_held']", "[]"},
	    {"d['races'][0]['occurrences']", "7"}, {"d['races'][1]['id']", "'9f2c6a1b4e7d0c35'"},
	    {"d['races'][1]['variable']",
	     "{'module': '__main__', 'name': 'CELLS', 'container': 'global'}"},
	    {"d['races'][1]['occurrences']", "3"}, {"d['deadlocks']", "[]"},
	    {"d['suppressed']", "4"}, {"d['baselined']", "0"});

	/* two-space indentation, as in the contract */
	assert_true(
	    strncmp(json, "{\n  \"schema\": \"pyrace-report/1\",\n  \"tool\": {\n    \"name\"",
		    strlen("{\n  \"schema\": \"pyrace-report/1\",\n  \"tool\": {\n    \"name\"")) ==
	    0);
	assert_contains(json,
			"\n  \"deadlocks\": [],\n  \"suppressed\": 4,\n  \"baselined\": 0\n}\n");
	assert_contains(json, "\n      \"variable\": {\n        \"module\": \"nova.context\",");
	assert_lacks(json, "\t");
	free(json);
}

static void test_json_nasty_keys(void **state)
{
	(void)state;
	static const char *const keys[] = {
	    "q\"uo'te\\back\\\\slash",
	    "new\nline\r\ttab\b\f",
	    "\x01\x02\x1f\x7f ctl",
	    "caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x90\x8d",
	    "bad \xff\xfe lone \x80 cont",
	    "trunc3 \xe2\x82 trunc4 \xf0\x9f\x90 end",
	    "overlong \xc0\xaf \xe0\x80\xaf surrogate \xed\xa0\x80 big \xf4\x90\x80\x80 \xf5",
	    "trailing lead \xe2",
	    "",
	};
	struct report_race races[ARRAY_LEN(keys)];
	struct check checks[ARRAY_LEN(keys) + 6];
	char exprs[ARRAY_LEN(keys)][512];

	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		char lit[400];

		races[i] = dict_race(keys[i], "str");
		py_bytes(keys[i], lit, sizeof lit);
		/* Python's own decoder is the reference for where U+FFFD goes */
		snprintf(exprs[i], sizeof exprs[i],
			 "d['races'][%zu]['variable']['key'] == %s.decode('utf-8', 'replace')", i,
			 lit);
		checks[i] = (struct check){exprs[i], "True"};
	}
	races[4].current.thread.name = "thr\xff\"\n";
	races[5].previous.locks_held = (const char *const[]){"lock\\\x01\xc3"};
	races[5].previous.nlocks = 1;
	size_t n = ARRAY_LEN(keys);
	checks[n++] =
	    (struct check){"d['races'][0]['variable']['key']", "'q\"uo\\'te\\\\back\\\\\\\\slash'"};
	checks[n++] =
	    (struct check){"d['races'][1]['variable']['key']", "'new\\nline\\r\\ttab\\x08\\x0c'"};
	checks[n++] =
	    (struct check){"d['races'][3]['variable']['key']", "'caf\\xe9 \\u2603 \\U0001f40d'"};
	checks[n++] =
	    (struct check){"d['races'][4]['current']['thread']['name']", "'thr\\ufffd\"\\n'"};
	checks[n++] =
	    (struct check){"d['races'][5]['previous']['locks_held']", "['lock\\\\\\x01\\ufffd']"};
	checks[n++] =
	    (struct check){"d['races'][6]['variable']['key']",
			   "'overlong \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd surrogate "
			   "\\ufffd\\ufffd\\ufffd big \\ufffd\\ufffd\\ufffd\\ufffd \\ufffd'"};

	struct report r = base_report(races, ARRAY_LEN(keys));
	char *json = render_json(&r);
	check_json(json, checks, n);

	assert_true(valid_utf8(json));
	for (const char *p = json; *p; p++)
		assert_true(*p == '\n' || ((unsigned char)*p >= 0x20 && *p != 0x7f));
	assert_contains(json, "\"caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x90\x8d\""); /* kept as is */
	assert_contains(json, "\\u0001\\u0002\\u001f\\u007f ctl");
	assert_contains(json, "\"q\\\"uo'te\\\\back\\\\\\\\slash\"");
	free(json);
}

static void test_json_key_omitted(void **state)
{
	(void)state;
	struct report_race races[3] = {example_race(), dict_race(NULL, NULL),
				       dict_race("3", "int")};
	races[1].current.op = "clear";
	struct report r = base_report(races, 3);
	char *json = render_json(&r);

	CHECK_JSON(json, {"'key' in d['races'][0]['variable']", "False"},
		   {"'key_type' in d['races'][0]['variable']", "False"},
		   {"'key' in d['races'][1]['variable']", "False"},
		   {"'key_type' in d['races'][1]['variable']", "False"},
		   {"d['races'][1]['variable']['container']", "'dict'"},
		   {"d['races'][1]['current']['op']", "'clear'"},
		   {"d['races'][2]['variable']['key']", "'3'"},
		   {"d['races'][2]['variable']['key_type']", "'int'"},
		   {"'stack_truncated' in d['races'][0]['current']", "False"});
	free(json);
}

/* Missing strings are null rather than "" or a crash; an unknown line stays a number. */
static void test_json_nulls(void **state)
{
	(void)state;
	static const char *const argv_null[] = {"python3", NULL};
	static const struct report_frame unknown[] = {{NULL, NULL, -1}};
	struct report_race race = example_race();
	race.kind = NULL;
	race.variable.module = NULL;
	race.current.op = NULL;
	race.current.thread.name = NULL;
	race.current.stack.frames = unknown;
	race.current.stack.nframes = 1;
	struct report r = base_report(&race, 1);
	r.target.argv = argv_null;
	r.target.python_version = NULL;
	r.target.executable = NULL;
	r.target.build = NULL;
	r.stats.duration_s = NAN;
	char *json = render_json(&r);

	CHECK_JSON(
	    json, {"d['target']['argv']", "['python3', None]"},
	    {"d['target']['python']", "{'version': None, 'executable': None, 'build': None}"},
	    {"d['stats']['duration_s']", "None"}, {"d['races'][0]['kind']", "None"},
	    {"d['races'][0]['variable']['module']", "None"},
	    {"d['races'][0]['current']['op']", "None"},
	    {"d['races'][0]['current']['thread']", "{'tid': 4250, 'name': None}"},
	    {"d['races'][0]['current']['stack']",
	     "[{'file': None, 'function': None, 'line': -1}]"});
	free(json);
}

static void test_json_durations(void **state)
{
	(void)state;
	static const struct {
		double v;
		const char *text;
	} cases[] = {{1.93, "1.93"},
		     {2.0, "2.0"},
		     {0.0, "0.0"},
		     {0.0000015, "0.000002"},
		     {12345.5, "12345.5"}};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct report r = base_report(NULL, 0);
		char want[64];

		r.stats.duration_s = cases[i].v;
		char *json = render_json(&r);
		snprintf(want, sizeof want, "\"duration_s\": %s,\n", cases[i].text);
		assert_contains(json, want);
		free(json);
	}
}

static void test_json_empty_report(void **state)
{
	(void)state;
	struct report r = {0};
	char *json = render_json(&r);

	CHECK_JSON(json, {"d['races']", "[]"}, {"d['deadlocks']", "[]"},
		   {"d['target']", "{'pid': 0, 'argv': [], 'python': {'version': None, "
				   "'executable': None, 'build': None}}"},
		   {"d['stats']",
		    "{'events': 0, 'lost_events': 0, 'threads': 0, 'duration_s': 0.0, "
		    "'watched_dicts': 0, 'truncated_stacks': 0, 'unresolved_frames': "
		    "0, 'ended_early': False, 'reads_recorded': True}"},
		   {"d['suppressed']", "0"}, {"d['baselined']", "0"});
	assert_contains(json, "\"races\": [],\n");
	free(json);
}

static void test_json_write_error(void **state)
{
	(void)state;
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	struct report_race race = example_race();
	struct report r = base_report(&race, 1);
	assert_int_not_equal(report_write_json(&r, f), 0);
	fclose(f);
}

/* Past JSON_WRITE_MAX_DEPTH the commas cannot be right any more: the writer must say so. */
static void test_json_writer_too_deep(void **state)
{
	(void)state;
	for (int levels = JSON_WRITE_MAX_DEPTH - 2; levels <= JSON_WRITE_MAX_DEPTH + 2; levels++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		struct json_writer j = {.out = m};

		assert_non_null(m);
		for (int i = 0; i < levels; i++) {
			jw_open(&j, NULL, '[');
			jw_u64(&j, NULL, (uint64_t)i);
		}
		for (int i = 0; i < levels; i++)
			jw_close(&j, ']');
		fclose(m);
		assert_int_equal(j.too_deep, levels >= JSON_WRITE_MAX_DEPTH);
		free(buf);
	}
}

/* ---- text -------------------------------------------------------------------------------- */

static void test_text_example(void **state)
{
	(void)state;
	struct report_race race = example_race();
	struct report r = base_report(&race, 1);
	r.stats.events = 120;
	r.stats.threads = 2;
	char *text = render_text(&r, 0);

	assert_string_equal(
	    text,
	    "==================\n"
	    "WARNING: pyrace: data race on __main__.CELLS (write-write)\n"
	    "  Write of __main__.CELLS by thread \"Thread-2 (handle)\" (tid 4250):\n"
	    "    #0 load_cells /path/examples/cell_cache.py:42\n"
	    "    #1 handle /path/examples/cell_cache.py:80\n"
	    "  Locks held: none\n"
	    "\n"
	    "  Previous write of __main__.CELLS by thread \"Thread-1 (handle)\" (tid 4249):\n"
	    "    #0 load_cells /path/examples/cell_cache.py:44\n"
	    "  Locks held: __main__.LOCK\n"
	    "\n"
	    "  Seen 3 times.\n"
	    "  Race id: 9f2c6a1b4e7d0c35\n"
	    "==================\n"
	    "SUMMARY: pyrace: data race on __main__.CELLS at /path/examples/cell_cache.py:42 in "
	    "load_cells\n"
	    "pyrace: 1 race in 2 threads, 120 events, 0 lost events\n");
	free(text);
}

static void test_text_details(void **state)
{
	(void)state;
	static const struct report_frame unknown_line[] = {{"/srv/app/ctx.py", "set_cell", -1}};
	struct report_race races[3] = {dict_race("it's", "str"), dict_race(NULL, NULL),
				       dict_race("7", "int")};
	races[0].current.stack.truncated = 1;
	races[1].current.op = "clear";
	races[1].previous.op = "popitem";
	races[1].previous.stack.nframes = 0;
	races[2].current.op = "setdefault";
	races[2].current.stack.frames = unknown_line;
	races[2].current.stack.nframes = 1;
	races[2].previous.op = "pop";
	struct report r = base_report(races, 3);
	r.stats.lost_events = 12;
	r.suppressed = 2;
	char *text = render_text(&r, 0);

	assert_contains(text, "WARNING: pyrace: data race on nova.context.CELL_CACHE['it\\'s'] "
			      "(read-write)\n");
	assert_contains(text, "  Write of nova.context.CELL_CACHE['it\\'s'] by thread "
			      "\"Thread-2 (worker)\" (tid 11):\n"
			      "    #0 load_cells /path/examples/cell_cache.py:42\n"
			      "    #1 handle /path/examples/cell_cache.py:80\n"
			      "    ...\n"
			      "  Locks held: __main__.LOCK, lock@0x7f3a1c2b9e40\n\n"
			      "  Previous read of nova.context.CELL_CACHE['it\\'s'] by thread "
			      "\"Thread-1 (worker)\" (tid 12):\n");
	assert_contains(text, "  Clear of nova.context.CELL_CACHE[*] by thread");
	assert_contains(text, "  Previous popitem of nova.context.CELL_CACHE[*] by thread "
			      "\"Thread-1 (worker)\" (tid 12):\n"
			      "    <no Python frames>\n"
			      "  Locks held: none\n");
	assert_contains(text, "  Setdefault of nova.context.CELL_CACHE[7] by thread");
	assert_contains(text, "    #0 set_cell /srv/app/ctx.py:?\n");
	assert_contains(text, "  Previous pop of nova.context.CELL_CACHE[7]");
	assert_lacks(text, "Seen 1 times");
	assert_lacks(text, "Seen");
	assert_contains(text,
			"==================\n"
			"SUMMARY: pyrace: data race on nova.context.CELL_CACHE['it\\'s'] at "
			"/path/examples/cell_cache.py:42 in load_cells\n"
			"SUMMARY: pyrace: data race on nova.context.CELL_CACHE[*] at "
			"/path/examples/cell_cache.py:42 in load_cells\n"
			"SUMMARY: pyrace: data race on nova.context.CELL_CACHE[7] at "
			"/srv/app/ctx.py:? in set_cell\n"
			"pyrace: 3 races in 4 threads, 18234 events, 12 lost events; 2 races "
			"suppressed\n"
			"pyrace: results are incomplete: 12 events could not be delivered by the "
			"kernel; races may be missing, and some reported pairs may have been "
			"ordered by lost synchronisation events (try PYRACE_RING_SIZE)\n");
	for (size_t i = 0; i < 3; i++) {
		char line[64];
		snprintf(line, sizeof line, "  Race id: %s\n", races[i].id);
		assert_contains(text, line);
	}
	/* each block opens and closes with the separator */
	size_t seps = 0;
	for (const char *p = text; (p = strstr(p, "==================\n")) != NULL; p++)
		seps++;
	assert_int_equal(seps, 6);
	free(text);
}

static void test_text_incomplete(void **state)
{
	(void)state;
	struct report r = base_report(NULL, 0);
	r.stats.ended_early = 1;
	char *text = render_text(&r, 0);

	assert_string_equal(text,
			    "pyrace: no races found (4 threads, 18234 events, 0 lost events)\n"
			    "pyrace: results are incomplete: the trace ended before the program "
			    "did; races may be missing\n");
	free(text);

	r.stats.lost_events = 1;
	r.suppressed = 1;
	text = render_text(&r, 0);
	assert_string_equal(
	    text,
	    "pyrace: no races found (4 threads, 18234 events, 1 lost event); 1 race suppressed\n"
	    "pyrace: results are incomplete: 1 event could not be delivered by the kernel and "
	    "the trace ended before the program did; races may be missing, and some reported "
	    "pairs may have been ordered by lost synchronisation events (try "
	    "PYRACE_RING_SIZE)\n");
	free(text);
}

static void test_text_empty_report(void **state)
{
	(void)state;
	struct report r = {0};
	char *text = render_text(&r, 0);

	assert_string_equal(text, "pyrace: no races found (0 threads, 0 events, 0 lost events)\n");
	free(text);
	text = render_text(&r, 1);
	assert_string_equal(text, "pyrace: no races found (0 threads, 0 events, 0 lost events)\n");
	free(text);
}

static void test_text_color(void **state)
{
	(void)state;
	struct report_race races[2] = {example_race(), dict_race("k", "str")};
	struct report r = base_report(races, 2);
	r.stats.lost_events = 3;
	char *plain = render_text(&r, 0);
	char *color = render_text(&r, 1);

	assert_null(strchr(plain, '\033'));
	assert_contains(color, "\033[1;31mWARNING: pyrace: data race on __main__.CELLS "
			       "(write-write)\033[0m\n");
	assert_contains(color, "  \033[1mWrite of __main__.CELLS by thread \"Thread-2 (handle)\" "
			       "(tid 4250):\033[0m\n");
	assert_contains(color, "  \033[1mPrevious write of __main__.CELLS");
	assert_contains(color, "  \033[2mLocks held: none\033[0m\n");
	assert_contains(color, "  \033[2mLocks held: __main__.LOCK\033[0m\n");
	/* every colour is reset on its own line */
	for (const char *line = color; *line;) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		const char *esc = memchr(line, '\033', (size_t)(nl - line));
		if (esc) {
			assert_true(nl - line >= 4);
			assert_memory_equal(nl - 4, "\033[0m", 4);
		}
		line = nl + 1;
	}
	free(plain);
	free(color);
}

/* A thread name is chosen by the traced program and must not drive the terminal. */
static void test_text_escapes_control_chars(void **state)
{
	(void)state;
	static const struct report_frame evil_frame[] = {{"/tmp/a\rb.py", "f\033]0;x\a", 3}};
	struct report_race race = dict_race("k\033[2J", "str");
	race.current.thread.name = "evil\033[31m\xc2\x9b";
	race.previous.stack.frames = evil_frame;
	const char *const locks[] = {"lock\n2"};
	race.previous.locks_held = locks;
	race.previous.nlocks = 1;
	struct report r = base_report(&race, 1);
	char *text = render_text(&r, 0);

	assert_null(strchr(text, '\033'));
	assert_null(strchr(text, '\r'));
	assert_null(strchr(text, '\a'));
	assert_null(strstr(text, "\xc2\x9b"));
	assert_contains(text, "by thread \"evil\\x1b[31m\\x9b\" (tid 11)");
	assert_contains(text, "CELL_CACHE['k\\x1b[2J']");
	assert_contains(text, "#0 f\\x1b]0;x\\x07 /tmp/a\\x0db.py:3\n");
	assert_contains(text, "Locks held: lock\\x0a2\n");
	free(text);
}

/* ---- variable names ---------------------------------------------------------------------- */

static void name_is(const char *module, const char *name, const char *container, const char *key,
		    const char *key_type, const char *want)
{
	struct report_variable v = {module, name, container, key, key_type};
	char buf[256];

	memset(buf, 'X', sizeof buf);
	report_variable_name(&v, buf, sizeof buf);
	assert_string_equal(buf, want);
}

static void test_variable_names(void **state)
{
	(void)state;
	name_is("__main__", "CACHE", "dict", "user-1", "str", "__main__.CACHE['user-1']");
	name_is("__main__", "CACHE", "dict", "3", "int", "__main__.CACHE[3]");
	name_is("__main__", "CACHE", "dict", "tuple#5f1e", "tuple", "__main__.CACHE[tuple#5f1e]");
	name_is("__main__", "CACHE", "dict", "-2", NULL, "__main__.CACHE[-2]");
	/* a list is one variable; a set's element goes in braces, the whole set is {*} */
	name_is("app", "ITEMS", "list", NULL, NULL, "app.ITEMS");
	name_is("app", "SEEN", "set", "x", "str", "app.SEEN{'x'}");
	name_is("app", "SEEN", "set", "7", "int", "app.SEEN{7}");
	name_is("app", "SEEN", "set", "<tuple>", "object", "app.SEEN{<tuple>}");
	name_is("app", "SEEN", "set", NULL, NULL, "app.SEEN{*}");
	name_is("__main__", "CACHE", "dict", NULL, NULL, "__main__.CACHE[*]");
	name_is("nova.context", "COUNT", "global", NULL, NULL, "nova.context.COUNT");
	name_is("m", "X", "global", "ignored", "str", "m.X");
	name_is(NULL, NULL, "global", NULL, NULL, "?.?");
	name_is("m", "D", "dict", "", "str", "m.D['']");
	/* escaped as Python's repr would, so the name stays on one line and unambiguous */
	name_is("m", "D", "dict", "it's", "str", "m.D['it\\'s']");
	name_is("m", "D", "dict", "a\\b", "str", "m.D['a\\\\b']");
	name_is("m", "D", "dict", "l1\nl2\r\t\x01\x7f", "str", "m.D['l1\\nl2\\r\\t\\x01\\x7f']");
	name_is("m", "D", "dict", "caf\xc3\xa9", "str", "m.D['caf\xc3\xa9']");
	name_is("m", "D", "dict", "bad\x1b", "weird", "m.D[bad\\x1b]");
}

static void test_variable_name_truncation(void **state)
{
	(void)state;
	struct report_variable v = {"mod", "NAME", "dict", "a'b\xc3\xa9\xe2\x98\x83\n!", "str"};
	char full[128], buf[128];

	report_variable_name(&v, full, sizeof full);
	assert_string_equal(full, "mod.NAME['a\\'b\xc3\xa9\xe2\x98\x83\\n!']");

	buf[0] = 'X';
	report_variable_name(&v, buf, 0);
	assert_int_equal(buf[0], 'X');
	report_variable_name(&v, NULL, 0);

	for (size_t len = 1; len <= strlen(full) + 2; len++) {
		memset(buf, 'X', sizeof buf);
		report_variable_name(&v, buf, len);
		size_t got = strlen(buf);
		assert_true(got < len);
		assert_int_equal(buf[len], 'X'); /* nothing past the buffer */
		assert_memory_equal(buf, full, got);
		assert_true(valid_utf8(buf));
		/* escapes are never split: a lone backslash would change the meaning */
		if (got > 0 && got < strlen(full))
			assert_true(buf[got - 1] != '\\');
	}
	report_variable_name(&v, buf, 1);
	assert_string_equal(buf, "");
	report_variable_name(&v, buf, 5);
	assert_string_equal(buf, "mod.");
}

/* ---- race ids ---------------------------------------------------------------------------- */

static bool is_id(const char *id)
{
	if (strnlen(id, 17) != 16)
		return false;
	for (int i = 0; i < 16; i++) {
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return false;
	}
	return true;
}

static void test_ids(void **state)
{
	(void)state;
	static const struct report_frame moved_cur[] = {
	    {"/home/other/checkout/examples/cell_cache.py", "load_cells", 42},
	    {"/home/other/checkout/examples/cell_cache.py", "handle", 81},
	};
	static const struct report_frame moved_prev[] = {{"cell_cache.py", "load_cells", 44}};
	static const struct report_frame other_line[] = {
	    {"/path/examples/cell_cache.py", "load_cells", 43}};
	static const struct report_frame other_func[] = {
	    {"/path/examples/cell_cache.py", "save_cells", 44}};

	struct report_race a = dict_race("k", "str");
	assert_true(is_id(a.id));

	/* same input, same id */
	struct report_race again = dict_race("k", "str");
	assert_string_equal(a.id, again.id);

	/* current and previous swapped */
	struct report_race swapped = a;
	swapped.current = a.previous;
	swapped.previous = a.current;
	swapped.kind = "write-read";
	report_race_compute_id(&swapped);
	assert_string_equal(a.id, swapped.id);

	/* code moved to another directory; outer frames do not count */
	struct report_race moved = a;
	moved.current.stack.frames = moved_cur;
	moved.previous.stack.frames = moved_prev;
	report_race_compute_id(&moved);
	assert_string_equal(a.id, moved.id);

	struct report_race diff = a;
	diff.previous.stack.frames = other_line;
	report_race_compute_id(&diff);
	assert_true(is_id(diff.id));
	assert_string_not_equal(a.id, diff.id);

	diff = a;
	diff.previous.stack.frames = other_func;
	report_race_compute_id(&diff);
	assert_string_not_equal(a.id, diff.id);

	struct report_race k2 = dict_race("k2", "str");
	assert_string_not_equal(a.id, k2.id);
	struct report_race whole = dict_race(NULL, NULL);
	assert_string_not_equal(a.id, whole.id);
	diff = a;
	diff.variable.name = "OTHER";
	report_race_compute_id(&diff);
	assert_string_not_equal(a.id, diff.id);
	diff = a;
	diff.variable.module = "other";
	report_race_compute_id(&diff);
	assert_string_not_equal(a.id, diff.id);

	/* empty stacks are allowed and count as "?" */
	struct report_race empty = a;
	empty.current.stack.nframes = 0;
	report_race_compute_id(&empty);
	assert_true(is_id(empty.id));
	assert_string_not_equal(a.id, empty.id);
	struct report_race empty_swapped = empty;
	empty_swapped.current = empty.previous;
	empty_swapped.previous = empty.current;
	report_race_compute_id(&empty_swapped);
	assert_string_equal(empty.id, empty_swapped.id);

	/* long keys are hashed whole, not cut at some buffer size */
	char *long1 = malloc(20001), *long2 = malloc(20001);
	assert_non_null(long1);
	assert_non_null(long2);
	memset(long1, 'x', 20000);
	long1[20000] = '\0';
	memcpy(long2, long1, 20001);
	long2[19999] = 'y';
	struct report_race l1 = dict_race(long1, "str"), l2 = dict_race(long2, "str");
	assert_string_not_equal(l1.id, l2.id);
	free(long1);
	free(long2);
}

/* The id is part of users' baselines: pin its definition with an independent implementation
 * (FNV-1a 64 over name NUL lower-frame NUL higher-frame) and a literal. */
static void test_id_definition(void **state)
{
	(void)state;
	struct report_race a = dict_race("k", "str");
	char want[32];

	assert_string_equal(a.id, "16a91d30bd939f92");
	snprintf(want, sizeof want, "'%s'", a.id);
	CHECK_JSON("null", {"'%016x' % __import__('functools').reduce(lambda h, c: ((h ^ c) * "
			    "0x100000001b3) % 2**64, \"nova.context.CELL_CACHE['k']\".encode() + "
			    "b'\\0cell_cache.py:load_cells:42\\0cell_cache.py:load_cells:44', "
			    "0xcbf29ce484222325)",
			    want});

	struct report_race e = example_race();
	e.current.stack.nframes = 0;
	report_race_compute_id(&e);
	snprintf(want, sizeof want, "'%s'", e.id);
	CHECK_JSON("null", {"'%016x' % __import__('functools').reduce(lambda h, c: ((h ^ c) * "
			    "0x100000001b3) % 2**64, b'__main__.CELLS\\0?\\0"
			    "cell_cache.py:load_cells:44', 0xcbf29ce484222325)",
			    want});
}

int main(void)
{
	/* if python3 dies before reading the document, fail the check rather than the process */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_contract),
	    cmocka_unit_test(test_json_nasty_keys),
	    cmocka_unit_test(test_json_key_omitted),
	    cmocka_unit_test(test_json_nulls),
	    cmocka_unit_test(test_json_durations),
	    cmocka_unit_test(test_json_empty_report),
	    cmocka_unit_test(test_json_write_error),
	    cmocka_unit_test(test_json_writer_too_deep),
	    cmocka_unit_test(test_text_example),
	    cmocka_unit_test(test_text_details),
	    cmocka_unit_test(test_text_incomplete),
	    cmocka_unit_test(test_text_empty_report),
	    cmocka_unit_test(test_text_color),
	    cmocka_unit_test(test_text_escapes_control_chars),
	    cmocka_unit_test(test_variable_names),
	    cmocka_unit_test(test_variable_name_truncation),
	    cmocka_unit_test(test_ids),
	    cmocka_unit_test(test_id_definition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
