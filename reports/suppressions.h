/* Suppression rules (`race:`, `race_top:`, `global:`, `deadlock:` globs) and matching them against
 * races and deadlocks. */
#ifndef PYRACE_SUPPRESSIONS_H
#define PYRACE_SUPPRESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

/* A suppressions file larger than this is refused (it is a hand-written list). */
#define SUPPRESSIONS_MAX_FILE (1u << 20)

enum suppression_type {
	SUPP_RACE,     /* any frame of either stack (function, file, base name) or module.NAME */
	SUPP_RACE_TOP, /* the innermost frame of either stack only */
	SUPP_GLOBAL,   /* the variable, as module.NAME */
	SUPP_DEADLOCK, /* a lock of the cycle by name, or any frame of any of its stacks */
};

struct suppression {
	enum suppression_type type;
	char *pattern; /* an fnmatch(3) glob, matched against whole strings */
	char *file;    /* the file it came from, as given */
	int line;
	uint64_t hits;
};

struct suppressions {
	struct suppression *rules; /* in the order read: the first match takes the hit */
	size_t n, cap;
	struct report_suppression *view; /* see suppressions_view */
};

/* "race", "race_top", "global", "deadlock". */
const char *suppression_type_name(enum suppression_type type);

/* Parses the text of one suppressions file (`file` names it in messages) and appends its rules:
 * `race:PATTERN`, `race_top:PATTERN`, `global:PATTERN`, `deadlock:PATTERN`, `#` comments and blank
 * lines; spaces around a line are ignored. 0 on success; -1 with one line "FILE:LINE: what is
 * wrong" in err, and then no rule of this text is kept. Does no I/O. */
int suppressions_parse(struct suppressions *s, const char *file, const char *text, size_t len,
		       char *err, size_t errlen);

/* Reads and parses the file at path (at most SUPPRESSIONS_MAX_FILE bytes). 0 or -1 with err. */
int suppressions_load(struct suppressions *s, const char *path, char *err, size_t errlen);

/* Whether one rule matches a race. */
bool suppression_matches(const struct suppression *rule, const struct report_race *race);

/* The first rule (in load order) that matches the race, whose hit count is then raised; NULL
 * when none does. */
const struct suppression *suppressions_match(struct suppressions *s,
					     const struct report_race *race);

/* The same for deadlocks, which only `deadlock:` rules match. */
bool suppression_matches_deadlock(const struct suppression *rule, const struct report_deadlock *d);
const struct suppression *suppressions_match_deadlock(struct suppressions *s,
						      const struct report_deadlock *d);

/* The rules with their current hit counts as report_suppression entries for a report (owned by
 * s, valid until the next call or suppressions_free); NULL when out of memory or no rule. */
const struct report_suppression *suppressions_view(struct suppressions *s);

void suppressions_free(struct suppressions *s);

#endif
