/* A small streaming JSON writer shared by the JSON and SARIF renderings, and UTF-8 checking. */
#ifndef PYRACE_JSON_WRITE_H
#define PYRACE_JSON_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Deeper than any document pyrace writes (SARIF reaches 14). A container opened deeper than
 * this sets too_deep: the writer stays in bounds, but the document is then not valid JSON and
 * the renderers report a failure. */
#define JSON_WRITE_MAX_DEPTH 24

/* Two-space indentation, one member a line, empty containers as `[]` and `{}`. */
struct json_writer {
	FILE *out;
	int depth;
	bool nonempty[JSON_WRITE_MAX_DEPTH]; /* whether the container at that depth has a member */
	bool too_deep;
};

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0 with *skip set to the length of
 * its maximal invalid prefix (one U+FFFD per maximal subpart, as Python decodes). */
size_t utf8_sequence(const unsigned char *p, size_t n, size_t *skip);

/* A JSON string of the n bytes at s: escapes what JSON needs, replaces invalid UTF-8 by
 * U+FFFD, so the document stays valid JSON and UTF-8 whatever the bytes. */
void json_write_string_n(FILE *out, const char *s, size_t n);
/* The same for a C string; NULL writes null. */
void json_write_string(FILE *out, const char *s);

/* Opens an object ('{') or array ('[') as a member of the open container (key NULL in an array
 * or for the root), and closes it. */
void jw_open(struct json_writer *j, const char *key, char bracket);
void jw_close(struct json_writer *j, char bracket);
/* Starts a member: the comma before it, its line and, in an object, its key. */
void jw_member(struct json_writer *j, const char *key);
void jw_str(struct json_writer *j, const char *key, const char *val);
void jw_u64(struct json_writer *j, const char *key, uint64_t val);
void jw_int(struct json_writer *j, const char *key, long long val);
void jw_bool(struct json_writer *j, const char *key, bool val);
/* Microsecond precision, no tail of zeros, '.' whatever the locale, null for NaN/inf. */
void jw_double(struct json_writer *j, const char *key, double val);

#endif
