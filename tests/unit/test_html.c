/* Checks the HTML report: escaping of everything the traced program controls (no element may
 * come from a key, a name or a path), source excerpts, and the race timeline's reading of the
 * sync events. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "html.h"
#include "report.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define CAPTURE(var, stmt)                                                                         \
	do {                                                                                       \
		size_t len_;                                                                       \
		FILE *out;                                                                         \
		char *buf_ = NULL;                                                                 \
		out = open_memstream(&buf_, &len_);                                                \
		assert_non_null(out);                                                              \
		stmt;                                                                              \
		assert_int_equal(fclose(out), 0);                                                  \
		(var) = buf_;                                                                      \
	} while (0)

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		print_error("missing:\n%s\n--- in ---\n%s\n", needle, hay);
	assert_non_null(strstr(hay, needle));
}

/* Every element of the page is one the renderer writes: text from the program made none. */
static void assert_only_known_elements(const char *page)
{
	static const char *const known[] = {
	    "!DOCTYPE", "html", "head",	   "meta",    "title",	"style", "body", "header",
	    "h1",	"h2",	"h3",	   "p",	      "span",	"table", "tr",	 "th",
	    "td",	"code", "nav",	   "ol",      "ul",	"li",	 "a",	 "main",
	    "section",	"div",	"details", "summary", "pre",	"svg",	 "defs", "marker",
	    "path",	"text", "line",	   "g",	      "circle", "rect",	 "em",	 "footer",
	};
	for (const char *p = strchr(page, '<'); p; p = strchr(p + 1, '<')) {
		const char *name = p + 1 + (p[1] == '/');
		size_t n = 0;
		while (name[n] && (isalnum((unsigned char)name[n]) || name[n] == '!'))
			n++;
		int found = 0;
		for (size_t i = 0; i < ARRAY_LEN(known) && !found; i++)
			found = strlen(known[i]) == n && strncmp(known[i], name, n) == 0;
		if (!found)
			print_error("unexpected element at: %.60s\n", p);
		assert_true(found);
	}
}

static void test_escaping(void **state)
{
	(void)state;
	char *s;
	CAPTURE(s,
		html_put(out, "<script>alert(1)</script> & \"q\" 'a'\t\x01\x1b\x7f caf\xc3\xa9"));
	assert_string_equal(s, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; "
			       "&#39;a&#39;\t\\x01\\x1b\\x7f caf\xc3\xa9");
	free(s);
	CAPTURE(s, html_put(out, NULL));
	assert_string_equal(s, "?");
	free(s);
}

static const struct report_frame cur_frames[] = {
    {"/srv/<img src=x onerror=alert(2)>.py", "f<b>", 12},
    {"/usr/lib/python3.11/threading.py", "Thread.run", 975},
};
static const struct report_frame prev_frames[] = {{"/srv/app.py", "load</summary>", -1}};
static const char *const locks[] = {"__main__.LOCKS['<i>k</i>']"};
static const char *const argv_evil[] = {"python3", "<b>app.py</b>"};

/* The earlier thread releases L after its access; the later one acquired L before that. */
static const struct report_sync prev_syncs[] = {
    {"acquire", "__main__.L", 10, 1000000},
    {"release", "__main__.L", 30, 3000000},
};
static const struct report_sync cur_syncs[] = {
    {"acquire", "__main__.L", 20, 2000000},
    {"release", "__main__.L", 21, 2100000},
};

static struct report_race evil_race(void)
{
	struct report_race r = {
	    .kind = "write-write",
	    .variable = {.module = "__main__",
			 .name = "CACHE",
			 .container = "dict",
			 .key = "<script>alert(1)</script>",
			 .key_type = "str"},
	    .current = {.op = "write",
			.thread = {11, "Thread-2 (<u>w</u>)"},
			.locks_held = locks,
			.nlocks = 1,
			.stack = {.frames = cur_frames, .nframes = ARRAY_LEN(cur_frames)},
			.seq = 40,
			.ts_ns = 4000000,
			.syncs = cur_syncs,
			.nsyncs = ARRAY_LEN(cur_syncs)},
	    .previous = {.op = "write",
			 .thread = {10, "Thread-1"},
			 .stack = {.frames = prev_frames,
				   .nframes = ARRAY_LEN(prev_frames),
				   .truncated = 1},
			 .seq = 25,
			 .ts_ns = 2500000,
			 .syncs = prev_syncs,
			 .nsyncs = ARRAY_LEN(prev_syncs),
			 .syncs_not_kept = 5},
	    .occurrences = 2,
	};
	report_race_compute_id(&r);
	return r;
}

static struct report make_report(const struct report_race *races, size_t n)
{
	struct report r = {
	    .target = {.pid = 42,
		       .argv = argv_evil,
		       .argc = 2,
		       .python_version = "3.11.2",
		       .executable = "/usr/bin/python3.11",
		       .build = "release"},
	    .stats = {.events = 100, .lost_events = 3, .threads = 3, .truncated_stacks = 7},
	    .races = races,
	    .nraces = n,
	};
	return r;
}

static void test_page_escapes_everything(void **state)
{
	(void)state;
	struct report_race race = evil_race();
	struct report r = make_report(&race, 1);
	char *page;
	CAPTURE(page, assert_int_equal(report_write_html(&r, out), 0));
	assert_only_known_elements(page);
	assert_null(strstr(page, "<script"));
	assert_null(strstr(page, "http:"));
	assert_null(strstr(page, "https:"));
	assert_contains(page, "<span class=\"variable\">__main__.CACHE[&#39;&lt;script&gt;alert(1)"
			      "&lt;/script&gt;&#39;]</span>");
	assert_contains(page, "<span id=\"race-count\">1</span> data race");
	assert_contains(page, "&lt;b&gt;app.py&lt;/b&gt;");
	assert_contains(page, "Thread-2 (&lt;u&gt;w&lt;/u&gt;)");
	assert_contains(page, "__main__.LOCKS[&#39;&lt;i&gt;k&lt;/i&gt;&#39;]");
	assert_contains(page, "f&lt;b&gt;</span> <span class=\"location\">/srv/&lt;img src=x "
			      "onerror=alert(2)&gt;.py:12");
	assert_contains(page, "load&lt;/summary&gt;</span> <span class=\"location\">/srv/app.py:?");
	/* lost events and truncation are never hidden */
	assert_contains(page, "<span class=\"warn\">3 lost events</span>");
	assert_contains(page, "<tr><th>Truncated stacks</th><td class=\"\">7</td></tr>");
	assert_contains(page, "deeper frames were not captured");
	free(page);
}

static void test_timeline_reads_the_syncs(void **state)
{
	(void)state;
	struct report_race race = evil_race();
	char *t;
	CAPTURE(t, html_write_timeline(out, &race));
	/* both lanes, both accesses, the events in trace order with times from the first */
	assert_contains(t, "<text class=\"lane-label\" x=\"4\" y=\"62\">Thread-1</text>");
	assert_non_null(strstr(strstr(t, "#10 acquire"), "#20 acquire"));
	assert_non_null(strstr(strstr(t, "#25 write"), "#30 release"));
	assert_contains(t, "<span class=\"seq\">#40</span> <span class=\"time\">+3.000 ms</span>");
	/* the later thread took the lock before the earlier one released it: not an edge */
	assert_contains(t, "did <em>release __main__.L</em> after its access, but thread "
			   "\"Thread-2 (&lt;u&gt;w&lt;/u&gt;)\" did <em>acquire __main__.L</em> "
			   "earlier, before it was released: too early to order the pair.");
	assert_null(strstr(t, "class=\"edge orders\""));
	assert_contains(t, "thread \"Thread-1\" held no lock at its access.");
	assert_contains(t, "5 earlier sync events of thread \"Thread-1\" are not shown");
	free(t);

	/* an acquire after the release and before the access would order the pair: said so */
	static const struct report_sync late[] = {{"acquire", "__main__.L", 35, 3500000}};
	race.current.syncs = late;
	race.current.nsyncs = 1;
	CAPTURE(t, html_write_timeline(out, &race));
	assert_contains(t, "took it in before its access: this orders the pair");
	assert_contains(t, "class=\"edge orders\"");
	free(t);

	/* no sync event and no position at all: still two lanes and two accesses */
	race.current.syncs = race.previous.syncs = NULL;
	race.current.nsyncs = race.previous.nsyncs = 0;
	race.current.seq = race.previous.seq = race.current.ts_ns = race.previous.ts_ns = 0;
	race.previous.syncs_not_kept = 0;
	CAPTURE(t, html_write_timeline(out, &race));
	assert_contains(t, "released nothing after its access");
	assert_non_null(strstr(strstr(t, "<circle"), "<circle"));
	free(t);
}

static void test_excerpts(void **state)
{
	(void)state;
	char path[] = "/tmp/pyrace-html-XXXXXX.py";
	int fd = mkstemps(path, 3);
	assert_true(fd >= 0);
	const char *src = "a = 1\nif a < 2 and b > 1:\n    X['k'] = \"<v>\"\nb = 3\nc = 4\n";
	assert_int_equal(write(fd, src, strlen(src)), (ssize_t)strlen(src));
	close(fd);
	char *s;
	CAPTURE(s, html_write_excerpt(out, path, 3, 1));
	assert_contains(
	    s, "<span class=\"line\"><span class=\"ln\">    2</span> if a &lt; 2 and b "
	       "&gt; 1:</span><span class=\"line hit\"><span class=\"ln\">    3</span>  "
	       "   X[&#39;k&#39;] = &quot;&lt;v&gt;&quot;</span><span class=\"line\"><span "
	       "class=\"ln\">    4</span> b = 3</span>");
	assert_null(strstr(s, "c = 4"));
	assert_null(strstr(s, "a = 1"));
	free(s);

	CAPTURE(s, html_write_excerpt(out, path, 9, 2));
	assert_contains(s, "it has 5 lines, not 9 (changed since the run?)");
	free(s);
	unlink(path);

	CAPTURE(s, html_write_excerpt(out, path, 3, 1));
	assert_contains(s, "source not shown: ");
	assert_contains(s, "No such file or directory");
	free(s);
	/* only Python source is read: a trace could name any file */
	CAPTURE(s, html_write_excerpt(out, "/etc/passwd", 1, 1));
	assert_contains(s, "source not shown: /etc/passwd: not a .py file");
	assert_null(strstr(s, "root:"));
	free(s);
	CAPTURE(s, html_write_excerpt(out, "/proc/self/fd/0.py", 1, 1));
	assert_contains(s, "source not shown: ");
	free(s);
	CAPTURE(s, html_write_excerpt(out, "<frozen importlib._bootstrap>", 5, 1));
	assert_contains(s, "&lt;frozen importlib._bootstrap&gt;: not a .py file");
	free(s);
	CAPTURE(s, html_write_excerpt(out, "/srv/a.py", -1, 1));
	assert_contains(s, "line unknown");
	free(s);
}

static void test_no_races_and_write_errors(void **state)
{
	(void)state;
	struct report r = make_report(NULL, 0);
	char *page;
	CAPTURE(page, assert_int_equal(report_write_html(&r, out), 0));
	assert_contains(page, "<span id=\"race-count\">0</span> data races");
	assert_contains(page, "No data race found.");
	free(page);
	FILE *full = fopen("/dev/full", "w");
	assert_non_null(full);
	setvbuf(full, NULL, _IONBF, 0);
	struct report_race race = evil_race();
	r = make_report(&race, 1);
	assert_int_equal(report_write_html(&r, full), -1);
	fclose(full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_page_escapes_everything),
	    cmocka_unit_test(test_timeline_reads_the_syncs),
	    cmocka_unit_test(test_excerpts),
	    cmocka_unit_test(test_no_races_and_write_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
