/* Checks the suppressions parser (rule types, comments, errors with line numbers), matching of
 * race:, race_top: and global: globs against races, loading files, and the text report's
 * closing lines about suppressions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "suppressions.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ---------------------------------------------------------------------------- */

static const struct report_frame cur_frames[] = {
    {"/srv/app/nova/context.py", "set_target_cell", 358},
    {"/srv/app/nova/api.py", "Handler.do_GET", 41},
    {"/usr/lib/python3.11/threading.py", "Thread.run", 975},
};
static const struct report_frame prev_frames[] = {
    {"/srv/app/nova/cells.py", "load_cells", 12},
    {"/srv/app/nova/boot.py", "main.<locals>.serve", 7},
};

static struct report_race dict_race(void)
{
	struct report_race r = {
	    .id = "0123456789abcdef",
	    .kind = "write-write",
	    .variable = {.module = "nova.context",
			 .name = "CELL_CACHE",
			 .container = "dict",
			 .key = "uuid-1",
			 .key_type = "str"},
	    .current = {.op = "write",
			.thread = {11, "Thread-1"},
			.stack = {.frames = cur_frames, .nframes = ARRAY_LEN(cur_frames)}},
	    .previous = {.op = "read",
			 .thread = {12, "Thread-2"},
			 .stack = {.frames = prev_frames, .nframes = ARRAY_LEN(prev_frames)}},
	    .occurrences = 1,
	};
	return r;
}

static struct report_race global_race(void)
{
	struct report_race r = dict_race();
	r.variable = (struct report_variable){
	    .module = "__main__", .name = "GENERATION", .container = "global"};
	return r;
}

static int parse(struct suppressions *s, const char *text, char *err, size_t errlen)
{
	return suppressions_parse(s, "f.supp", text, strlen(text), err, errlen);
}

static void parse_ok(struct suppressions *s, const char *text)
{
	char err[512] = "";
	int rc = parse(s, text, err, sizeof err);
	if (rc)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
}

static void parse_fails(const char *text, const char *want)
{
	struct suppressions s = {0};
	char err[512] = "";

	assert_int_equal(parse(&s, text, err, sizeof err), -1);
	if (strcmp(err, want) != 0)
		print_error("for %s\n", text);
	assert_string_equal(err, want);
	assert_int_equal(s.n, 0);
	suppressions_free(&s);
}

/* Whether a rule written as text matches the race. */
static bool matches(const char *rule, const struct report_race *race)
{
	struct suppressions s = {0};
	parse_ok(&s, rule);
	assert_int_equal(s.n, 1);
	bool hit = suppression_matches(&s.rules[0], race);
	suppressions_free(&s);
	return hit;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static void test_parse_every_type(void **state)
{
	(void)state;
	struct suppressions s = {0};

	parse_ok(&s, "# a comment\n"
		     "\n"
		     "race:load_cells\n"
		     "   race_top:*/nova/*.py   \n"
		     "\t# indented comment\n"
		     "global:nova.context.CELL_*\r\n"
		     "global: spaced.after_colon\n"
		     "race:file with spaces.py\n"
		     "race:a:b"); /* no newline at the end; a colon inside the pattern */
	assert_int_equal(s.n, 6);
	const struct {
		enum suppression_type type;
		const char *pattern;
		int line;
	} want[] = {
	    {SUPP_RACE, "load_cells", 3},
	    {SUPP_RACE_TOP, "*/nova/*.py", 4},
	    {SUPP_GLOBAL, "nova.context.CELL_*", 6},
	    {SUPP_GLOBAL, "spaced.after_colon", 7},
	    {SUPP_RACE, "file with spaces.py", 8},
	    {SUPP_RACE, "a:b", 9},
	};
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		assert_int_equal(s.rules[i].type, want[i].type);
		assert_string_equal(s.rules[i].pattern, want[i].pattern);
		assert_int_equal(s.rules[i].line, want[i].line);
		assert_string_equal(s.rules[i].file, "f.supp");
		assert_int_equal(s.rules[i].hits, 0);
	}
	assert_string_equal(suppression_type_name(SUPP_RACE), "race");
	assert_string_equal(suppression_type_name(SUPP_RACE_TOP), "race_top");
	assert_string_equal(suppression_type_name(SUPP_GLOBAL), "global");
	suppressions_free(&s);
	assert_null(s.rules);
	assert_int_equal(s.n, 0);
}

static void test_parse_empty(void **state)
{
	(void)state;
	struct suppressions s = {0};

	parse_ok(&s, "");
	parse_ok(&s, "\n\n   \n# only comments\n#race:x\n");
	assert_int_equal(s.n, 0);
	assert_null(suppressions_view(&s));
	suppressions_free(&s);
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_fails("race:ok\n\nnot a rule\n", "f.supp:3: expected TYPE:PATTERN (race, race_top, "
					       "global or deadlock), got 'not a rule'");
	parse_fails("racey:x\n", "f.supp:1: unknown suppression type 'racey' (expected race, "
				 "race_top, global or deadlock)");
	parse_fails("Race:x\n", "f.supp:1: unknown suppression type 'Race' (expected race, "
				"race_top, global or deadlock)");
	parse_fails("race :x\n", "f.supp:1: unknown suppression type 'race ' (expected race, "
				 "race_top, global or deadlock)");
	parse_fails("# c\nrace_top:\n", "f.supp:2: empty pattern after 'race_top:'");
	parse_fails("global:   \n", "f.supp:1: empty pattern after 'global:'");
	parse_fails("race:a\nrace:b\nrace:c\nglobal:x[ab\n",
		    "f.supp:4: unterminated '[' in the pattern");
	parse_fails("race:x\\\n", "f.supp:1: the pattern ends with a lone backslash");
	parse_fails("race:a\x01b\n", "f.supp:1: control character in the pattern");
	/* inside a bracket too, where the class scan used to skip over it */
	parse_fails("global:__main__.[\x01-Z]*\n", "f.supp:1: control character in the pattern");
	/* what the user wrote is shown on one line and cut */
	parse_fails("\x1b[31m\n",
		    "f.supp:1: expected TYPE:PATTERN (race, race_top, global or deadlock), "
		    "got '\\x1b[31m'");
	parse_fails(":x\n", "f.supp:1: unknown suppression type '' (expected race, race_top, "
			    "global or deadlock)");
	parse_fails("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:x",
		    "f.supp:1: unknown suppression type "
		    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (expected race, race_top, "
		    "global or deadlock)");

	/* a NUL byte inside the text, which strlen would not see */
	struct suppressions s = {0};
	char err[256];
	static const char nul[] = "race:a\nrace:b\0c\n";
	assert_int_equal(suppressions_parse(&s, "n.supp", nul, sizeof nul - 1, err, sizeof err),
			 -1);
	assert_string_equal(err, "n.supp:2: NUL byte in the line");
	/* brackets that close are fine, including a leading ] member and negation */
	parse_ok(&s, "global:m.[]x]\nglobal:m.[!a]*\nglobal:m.[^a]\nglobal:m.\\[\n");
	assert_int_equal(s.n, 4);
	suppressions_free(&s);
}

/* A failing file leaves the rules of earlier files and none of its own. */
static void test_parse_appends_and_rolls_back(void **state)
{
	(void)state;
	struct suppressions s = {0};
	char err[256];

	parse_ok(&s, "race:one\n");
	assert_int_equal(
	    suppressions_parse(&s, "second.supp", "race:two\nglobal:three\n", 22, err, sizeof err),
	    0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.rules[1].file, "second.supp");
	assert_int_equal(s.rules[2].line, 2);
	static const char bad[] = "race:four\nrace:five\nbad\n";
	assert_int_equal(suppressions_parse(&s, "bad.supp", bad, strlen(bad), err, sizeof err), -1);
	assert_string_equal(
	    err, "bad.supp:3: expected TYPE:PATTERN (race, race_top, global or deadlock), "
		 "got 'bad'");
	assert_int_equal(s.n, 3);
	assert_string_equal(s.rules[2].pattern, "three");
	suppressions_free(&s);
}

/* ---- matching ---------------------------------------------------------------------------- */

static void test_match_global(void **state)
{
	(void)state;
	struct report_race d = dict_race(), g = global_race();

	assert_true(matches("global:nova.context.CELL_CACHE", &d));
	assert_true(matches("global:nova.context.CELL_*", &d));
	assert_true(matches("global:nova.*", &d));
	assert_true(matches("global:*CACHE", &d));
	assert_true(matches("global:nova.context.CELL_CACH?", &d));
	assert_true(matches("global:nova.context.[A-C]ELL_CACHE", &d));
	assert_false(matches("global:CELL_CACHE", &d)); /* whole string: the module is part */
	assert_false(matches("global:nova.context", &d));
	assert_false(matches("global:nova.context.CELL_CACHE['uuid-1']", &d)); /* never the key */
	assert_false(matches("global:nova.context.cell_cache", &d));	       /* case matters */
	assert_false(matches("global:set_target_cell", &d)); /* frames do not count */
	assert_false(matches("global:*context.py", &d));
	assert_true(matches("global:__main__.GENERATION", &g));
	assert_true(matches("global:__main__.*", &g));
	assert_false(matches("global:__main__.GEN", &g));

	struct report_race n = g;
	n.variable.module = NULL;
	n.variable.name = NULL;
	assert_true(matches("global:?.?", &n));
}

static void test_match_race(void **state)
{
	(void)state;
	struct report_race d = dict_race();

	/* function names, any frame of either stack */
	assert_true(matches("race:set_target_cell", &d));
	assert_true(matches("race:Thread.run", &d));	      /* outermost frame of current */
	assert_true(matches("race:main.<locals>.serve", &d)); /* outer frame of previous */
	assert_true(matches("race:Handler.*", &d));
	assert_true(matches("race:*_cells", &d));
	/* file paths, whole or base name */
	assert_true(matches("race:/srv/app/nova/boot.py", &d));
	assert_true(matches("race:boot.py", &d));
	assert_true(matches("race:/srv/app/*", &d));
	assert_true(matches("race:*/threading.py", &d));
	assert_true(matches("race:api.p?", &d));
	/* the variable as module.NAME */
	assert_true(matches("race:nova.context.CELL_CACHE", &d));
	assert_true(matches("race:nova.context.*", &d));
	/* no partial matches: globs are anchored at both ends */
	assert_false(matches("race:set_target", &d));
	assert_false(matches("race:nova", &d));
	assert_false(matches("race:app", &d));
	assert_false(matches("race:Thread-1", &d)); /* thread names are not frames */
	assert_false(matches("race:uuid-1", &d));   /* nor keys */
	assert_false(matches("race:358", &d));

	struct report_race empty = d;
	empty.current.stack.nframes = 0;
	empty.previous.stack.frames = NULL;
	assert_false(matches("race:set_target_cell", &empty));
	assert_true(matches("race:nova.context.CELL_CACHE", &empty));
}

static void test_match_race_top(void **state)
{
	(void)state;
	struct report_race d = dict_race();

	assert_true(matches("race_top:set_target_cell", &d)); /* innermost of current */
	assert_true(matches("race_top:load_cells", &d));      /* innermost of previous */
	assert_true(matches("race_top:cells.py", &d));
	assert_true(matches("race_top:/srv/app/nova/context.py", &d));
	assert_true(matches("race_top:*/nova/c*.py", &d));
	assert_false(matches("race_top:Handler.do_GET", &d)); /* an outer frame */
	assert_false(matches("race_top:Thread.run", &d));
	assert_false(matches("race_top:boot.py", &d));
	assert_false(matches("race_top:nova.context.CELL_CACHE", &d)); /* frames only */

	struct report_race unknown = d;
	static const struct report_frame nulls[] = {{NULL, NULL, -1}};
	unknown.current.stack.frames = nulls;
	unknown.current.stack.nframes = 1;
	struct report_race g = global_race();
	assert_true(matches("race_top:*", &g));
	assert_true(matches("race_top:load_cells", &unknown));
	unknown.previous.stack.nframes = 0;
	assert_false(matches("race_top:*", &unknown));
}

/* The first matching rule in load order takes the hit; the view reports every rule. */
static void test_match_counts_hits(void **state)
{
	(void)state;
	struct suppressions s = {0};
	struct report_race d = dict_race(), g = global_race();
	struct report_race other = g;
	other.variable.name = "OTHER";
	other.current.stack.nframes = 0;
	other.previous.stack.nframes = 0;

	parse_ok(&s, "race:nothing\nglobal:nova.*\nrace:load_cells\nglobal:__main__.GENERATION\n");
	assert_ptr_equal(suppressions_match(&s, &d), &s.rules[1]);
	assert_ptr_equal(suppressions_match(&s, &d), &s.rules[1]);
	/* g has the same stacks as d: race:load_cells matches before its global: rule */
	assert_ptr_equal(suppressions_match(&s, &g), &s.rules[2]);
	assert_null(suppressions_match(&s, &other));
	assert_int_equal(s.rules[0].hits, 0);
	assert_int_equal(s.rules[1].hits, 2);
	assert_int_equal(s.rules[2].hits, 1);
	assert_int_equal(s.rules[3].hits, 0);

	const struct report_suppression *v = suppressions_view(&s);
	assert_non_null(v);
	assert_string_equal(v[1].type, "global");
	assert_string_equal(v[1].pattern, "nova.*");
	assert_string_equal(v[1].file, "f.supp");
	assert_int_equal(v[1].line, 2);
	assert_int_equal(v[1].hits, 2);
	assert_string_equal(v[3].type, "global");
	assert_int_equal(v[3].hits, 0);
	suppressions_free(&s);
}

/* Variable names longer than the matcher's stack buffer are matched whole. */
static void test_match_long_names(void **state)
{
	(void)state;
	char *module = malloc(3001);
	assert_non_null(module);
	memset(module, 'm', 3000);
	module[3000] = '\0';
	struct report_race g = global_race();
	g.variable.module = module;
	assert_true(matches("global:m*m.GENERATION", &g));
	assert_false(matches("global:m*x.GENERATION", &g));
	free(module);
}

/* ---- files ------------------------------------------------------------------------------- */

static char *write_temp(const char *text, size_t len)
{
	char *path = strdup("/tmp/pyrace-supp-XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_load_files(void **state)
{
	(void)state;
	struct suppressions s = {0};
	char err[512];
	static const char text[] = "race:a\nrace_top:b\n";
	char *path = write_temp(text, sizeof text - 1);

	assert_int_equal(suppressions_load(&s, path, err, sizeof err), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.rules[1].file, path);
	unlink(path);
	free(path);

	path = write_temp("race:ok\nwhat\n", 13);
	assert_int_equal(suppressions_load(&s, path, err, sizeof err), -1);
	char want[256];
	snprintf(want, sizeof want,
		 "%s:2: expected TYPE:PATTERN (race, race_top, global or deadlock), got 'what'",
		 path);
	assert_string_equal(err, want);
	assert_int_equal(s.n, 2);
	unlink(path);
	free(path);

	assert_int_equal(suppressions_load(&s, "/nonexistent/x.supp", err, sizeof err), -1);
	assert_string_equal(
	    err, "cannot read suppressions /nonexistent/x.supp: No such file or directory");
	assert_int_equal(suppressions_load(&s, "/tmp", err, sizeof err), -1);
	assert_string_equal(err, "cannot read suppressions /tmp: Is a directory");

	/* larger than the limit: refused, whatever it holds */
	size_t big = SUPPRESSIONS_MAX_FILE + 10;
	char *blob = malloc(big);
	assert_non_null(blob);
	memset(blob, '\n', big);
	path = write_temp(blob, big);
	assert_int_equal(suppressions_load(&s, path, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: larger than %u bytes", path, SUPPRESSIONS_MAX_FILE);
	assert_string_equal(err, want);
	unlink(path);
	free(path);
	/* exactly at the limit is fine */
	path = write_temp(blob, SUPPRESSIONS_MAX_FILE);
	assert_int_equal(suppressions_load(&s, path, err, sizeof err), 0);
	unlink(path);
	free(path);
	free(blob);
	assert_int_equal(s.n, 2);
	suppressions_free(&s);
}

/* ---- the text report --------------------------------------------------------------------- */

static char *render_text(const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	report_write_text(r, f, 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void test_text_lists_hits_and_unused(void **state)
{
	(void)state;
	struct suppressions s = {0};
	struct report_race races[2] = {dict_race(), global_race()};

	parse_ok(&s, "global:__main__.*\nrace:never\n# c\nrace_top:load_cells\n");
	struct report r = {.stats = {.threads = 3, .events = 10}, .races = races, .nraces = 0};
	for (size_t i = 0; i < 2; i++)
		assert_non_null(suppressions_match(&s, &races[i]));
	r.suppressed = 2;
	r.suppressions = suppressions_view(&s);
	r.nsuppressions = s.n;
	char *text = render_text(&r);
	assert_string_equal(text,
			    "pyrace: no races found (3 threads, 10 events, 0 lost events); 2 races "
			    "suppressed\n"
			    "pyrace: matched suppressions:\n"
			    "      1 global:__main__.* (f.supp:1)\n"
			    "      1 race_top:load_cells (f.supp:4)\n"
			    "pyrace: unused suppressions:\n"
			    "        race:never (f.supp:2)\n");
	free(text);

	/* nothing matched: only the unused list; no rule at all: nothing */
	for (size_t i = 0; i < s.n; i++)
		s.rules[i].hits = 0;
	r.suppressed = 0;
	r.suppressions = suppressions_view(&s);
	r.baselined = 1;
	text = render_text(&r);
	assert_string_equal(
	    text, "pyrace: no races found (3 threads, 10 events, 0 lost events); 1 race in "
		  "the baseline\n"
		  "pyrace: unused suppressions:\n"
		  "        global:__main__.* (f.supp:1)\n"
		  "        race:never (f.supp:2)\n"
		  "        race_top:load_cells (f.supp:4)\n");
	free(text);
	r.suppressions = NULL;
	r.nsuppressions = 0;
	r.baselined = 0;
	text = render_text(&r);
	assert_string_equal(text, "pyrace: no races found (3 threads, 10 events, 0 lost events)\n");
	free(text);
	suppressions_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_every_type),
	    cmocka_unit_test(test_parse_empty),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_appends_and_rolls_back),
	    cmocka_unit_test(test_match_global),
	    cmocka_unit_test(test_match_race),
	    cmocka_unit_test(test_match_race_top),
	    cmocka_unit_test(test_match_counts_hits),
	    cmocka_unit_test(test_match_long_names),
	    cmocka_unit_test(test_load_files),
	    cmocka_unit_test(test_text_lists_hits_and_unused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
