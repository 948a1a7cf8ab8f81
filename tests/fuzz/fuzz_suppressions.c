/* libFuzzer target: bytes as a suppressions file, parsed, then matched against fixed races.
 * Checks what must hold whatever the file says: a refused file adds no rule and explains itself
 * in one line naming the file and line; an accepted one has exactly one rule per line that is
 * neither blank nor a comment, with a clean pattern; the result does not depend on the size of
 * the error buffer nor on reading through suppressions_load; the rule a race is charged to
 * matches it and no earlier rule does; the hit counts and the report view agree. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "suppressions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define FILE_NAME    "fuzz.supp"

/* A rule loaded before the input: a refused input must leave it, and only it, in place. */
static const char base_rules[] = "# loaded first\nrace_top:never_called_anywhere\n";
#define BASE_RULES 1

static const struct report_frame nova_cur[] = {
    {"/usr/lib/python3/dist-packages/nova/context.py", "load_cells", 174},
    {"/usr/lib/python3/dist-packages/nova/compute/api.py", "API.get_all", 3012},
    {"/usr/lib/python3.11/threading.py", "Thread.run", 975},
};
static const struct report_frame nova_prev[] = {
    {"/usr/lib/python3/dist-packages/nova/context.py", "load_cells", 170},
    {"<frozen importlib._bootstrap>", "_call_with_frames_removed", 241},
};
/* what a frame looks like when the symbolizer could not resolve it */
static const struct report_frame odd_frames[] = {
    {NULL, NULL, -1},
    {"", "", 0},
    {"/tmp/dir with space/[x]*?.py", "f\\g", 1},
    {"/srv/caf\xc3\xa9/app.py", "Cache.get", 12},
};
static const char *const held[] = {"__main__.LOCK"};

static struct report_race races[] = {
    {.id = "73121850c5cf645b",
     .kind = "write-write",
     .variable = {.module = "nova.context", .name = "CELLS", .container = "global"},
     .current = {.op = "write",
		 .thread = {.tid = 11, .name = "Thread-1"},
		 .locks_held = NULL,
		 .nlocks = 0,
		 .stack = {nova_cur, ARRAY_LEN(nova_cur), 0}},
     .previous = {.op = "write",
		  .thread = {.tid = 12, .name = "Thread-2"},
		  .locks_held = NULL,
		  .nlocks = 0,
		  .stack = {nova_prev, ARRAY_LEN(nova_prev), 0}},
     .occurrences = 3},
    {.id = "868331cfc8713bea",
     .kind = "write-read",
     .variable = {.module = "warnings", .name = "showwarning", .container = "global"},
     .current = {.op = "read",
		 .thread = {.tid = 13, .name = "MainThread"},
		 .locks_held = held,
		 .nlocks = 1,
		 .stack = {nova_prev, 1, 1}},
     .previous = {.op = "write",
		  .thread = {.tid = 14, .name = NULL},
		  .locks_held = NULL,
		  .nlocks = 0,
		  .stack = {odd_frames, ARRAY_LEN(odd_frames), 0}},
     .occurrences = 1},
    {.id = "0000000000000000",
     .kind = "read-write",
     .variable = {.module = "__main__",
		  .name = "CACHE",
		  .container = "dict",
		  .key = "k\n\x01",
		  .key_type = "str"},
     .current = {.op = "write",
		 .thread = {.tid = 15, .name = "w"},
		 .locks_held = NULL,
		 .nlocks = 0,
		 .stack = {odd_frames + 2, 2, 0}},
     .previous = {.op = "read",
		  .thread = {.tid = 16, .name = "r"},
		  .locks_held = NULL,
		  .nlocks = 0,
		  .stack = {NULL, 0, 0}},
     .occurrences = 1},
    /* a variable the report model could not name */
    {.id = "ffffffffffffffff",
     .kind = "write-write",
     .variable = {.container = "dict"},
     .current = {.op = "clear",
		 .thread = {.tid = 17, .name = "t"},
		 .locks_held = NULL,
		 .nlocks = 0,
		 .stack = {odd_frames, 1, 0}},
     .previous = {.op = "update",
		  .thread = {.tid = 18, .name = "u"},
		  .locks_held = NULL,
		  .nlocks = 0,
		  .stack = {odd_frames + 1, 3, 0}},
     .occurrences = 7},
};

static int supp_fd = -1;
static char supp_path[64];

static void setup(void)
{
	supp_fd = memfd_create("pyrace-fuzz-supp", MFD_CLOEXEC);
	if (supp_fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(supp_path, sizeof(supp_path), "/proc/self/fd/%d", supp_fd);
}

static void store(const uint8_t *data, size_t size)
{
	if (ftruncate(supp_fd, 0) != 0)
		abort();
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(supp_fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Lines that must become a rule when the file is accepted: not blank, not a comment. */
static size_t rule_lines(const char *text, size_t len, size_t *lines)
{
	size_t rules = 0;

	*lines = 0;
	for (size_t i = 0; i < len;) {
		size_t end = i;
		while (end < len && text[end] != '\n')
			end++;
		size_t a = i, b = end;
		while (a < b && is_space(text[a]))
			a++;
		while (b > a && is_space(text[b - 1]))
			b--;
		if (a < b && text[a] != '#')
			rules++;
		(*lines)++;
		i = end + 1;
	}
	return rules;
}

static void check_error(const char *err, size_t lines)
{
	const char *prefix = FILE_NAME ":";

	if (strncmp(err, prefix, strlen(prefix)) != 0 || strchr(err, '\n')) {
		fprintf(stderr, "error is not one line naming the file: '%s'\n", err);
		abort();
	}
	long line = strtol(err + strlen(prefix), NULL, 10);
	if (line < 1 || (size_t)line > lines) {
		fprintf(stderr, "error names line %ld of %zu: '%s'\n", line, lines, err);
		abort();
	}
}

static void check_rules(const struct suppressions *s, size_t lines)
{
	int last_line = 0;

	for (size_t i = BASE_RULES; i < s->n; i++) {
		const struct suppression *r = &s->rules[i];
		size_t n = strlen(r->pattern);
		if (n == 0 || is_space(r->pattern[0]) || is_space(r->pattern[n - 1])) {
			fprintf(stderr, "rule %zu: pattern '%s' empty or not trimmed\n", i,
				r->pattern);
			abort();
		}
		for (size_t k = 0; k < n; k++) {
			if ((unsigned char)r->pattern[k] < 0x20 || r->pattern[k] == 0x7f) {
				fprintf(stderr, "rule %zu: control character in pattern\n", i);
				abort();
			}
		}
		if (r->line <= last_line || (size_t)r->line > lines ||
		    strcmp(r->file, FILE_NAME) != 0 || r->hits != 0 ||
		    strcmp(suppression_type_name(r->type), "?") == 0) {
			fprintf(stderr, "rule %zu: bad line %d, file '%s', hits or type\n", i,
				r->line, r->file);
			abort();
		}
		last_line = r->line;
	}
}

static bool same_rules(const struct suppressions *a, const struct suppressions *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (a->rules[i].type != b->rules[i].type || a->rules[i].line != b->rules[i].line ||
		    strcmp(a->rules[i].pattern, b->rules[i].pattern) != 0)
			return false;
	}
	return true;
}

static void check_matching(struct suppressions *s)
{
	uint64_t matched = 0, hits = 0, hits_before = 0;

	for (size_t k = 0; k < s->n; k++)
		hits_before += s->rules[k].hits;
	for (size_t i = 0; i < ARRAY_LEN(races); i++) {
		const struct suppression *m = suppressions_match(s, &races[i]);
		size_t first = s->n;
		for (size_t k = 0; k < s->n && first == s->n; k++)
			if (suppression_matches(&s->rules[k], &races[i]))
				first = k;
		if ((m == NULL) != (first == s->n) || (m && m != &s->rules[first])) {
			fprintf(stderr, "race %zu charged to rule %td, first matching rule %zu\n",
				i, m ? m - s->rules : -1, first);
			abort();
		}
		matched += m != NULL;
	}
	for (size_t k = 0; k < s->n; k++)
		hits += s->rules[k].hits;
	if (hits - hits_before != matched) {
		fprintf(stderr, "%llu hits for %llu matched races\n", (unsigned long long)hits,
			(unsigned long long)matched);
		abort();
	}
	const struct report_suppression *view = suppressions_view(s);
	if (!view)
		abort(); /* there is always the base rule */
	for (size_t k = 0; k < s->n; k++) {
		const struct suppression *r = &s->rules[k];
		if (view[k].hits != r->hits || view[k].line != r->line ||
		    view[k].pattern != r->pattern ||
		    strcmp(view[k].type, suppression_type_name(r->type)) != 0) {
			fprintf(stderr, "view %zu differs from its rule\n", k);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct suppressions s = {0}, again = {0}, loaded = {0};
	char err[512], tiny[6] = "", err2[512];
	size_t lines, want = rule_lines(text, size, &lines);

	if (supp_fd < 0)
		setup();
	if (suppressions_parse(&s, "base.supp", base_rules, strlen(base_rules), err, sizeof err) ||
	    s.n != BASE_RULES)
		abort();
	int rc = suppressions_parse(&s, FILE_NAME, text, size, err, sizeof err);
	if (rc != 0) {
		check_error(err, lines);
		if (s.n != BASE_RULES) {
			fprintf(stderr, "a refused file left %zu rules\n", s.n - BASE_RULES);
			abort();
		}
	} else {
		if (s.n - BASE_RULES != want) {
			fprintf(stderr, "%zu rules from %zu rule lines\n", s.n - BASE_RULES, want);
			abort();
		}
		check_rules(&s, lines);
	}

	/* a small error buffer only shortens the message */
	suppressions_parse(&again, "base.supp", base_rules, strlen(base_rules), err2, sizeof err2);
	if (suppressions_parse(&again, FILE_NAME, text, size, tiny, sizeof tiny) != rc ||
	    !same_rules(&s, &again) || strnlen(tiny, sizeof tiny) == sizeof tiny) {
		fprintf(stderr, "parse with a 6-byte error buffer differs\n");
		abort();
	}

	/* the same bytes read from a file */
	store(data, size);
	suppressions_parse(&loaded, "base.supp", base_rules, strlen(base_rules), err2, sizeof err2);
	if (suppressions_load(&loaded, supp_path, err2, sizeof err2) != rc || loaded.n != s.n) {
		fprintf(stderr, "suppressions_load differs from suppressions_parse: %s\n", err2);
		abort();
	}

	check_matching(&s);
	/* matching again charges the same rules once more */
	uint64_t before = 0, after = 0;
	for (size_t k = 0; k < s.n; k++)
		before += s.rules[k].hits;
	check_matching(&s);
	for (size_t k = 0; k < s.n; k++)
		after += s.rules[k].hits;
	if (after != 2 * before)
		abort();

	suppressions_free(&s);
	suppressions_free(&again);
	suppressions_free(&loaded);
	if (s.n || s.rules || s.view)
		abort();
	return 0;
}
