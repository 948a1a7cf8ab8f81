/* The races of an earlier pyrace-report/1 JSON document, by id: baselines and `pyrace diff`. */
#ifndef PYRACE_BASELINE_H
#define PYRACE_BASELINE_H

#include <stdbool.h>
#include <stddef.h>

struct baseline_race {
	char id[17];
	char *summary; /* "module.NAME['key'] (kind) at FILE:LINE in FUNCTION", printable */
};

struct baseline {
	struct baseline_race *races; /* sorted by id, without duplicates */
	size_t n;
};

/* Reads the JSON report at path (as written by --json) and adds its races. The document must be
 * an object with "schema": "pyrace-report/1" and "races", an array of objects whose "id" is 16
 * lowercase hex digits. 0, or -1 with one line in err (and b unchanged). */
int baseline_load(struct baseline *b, const char *path, char *err, size_t errlen);

/* Whether a race with this id is in the baseline. */
bool baseline_has(const struct baseline *b, const char *id);

void baseline_free(struct baseline *b);

#endif
