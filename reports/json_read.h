/* A small, strict JSON reader (RFC 8259) for reading pyrace's own reports back, with limits. */
#ifndef PYRACE_JSON_READ_H
#define PYRACE_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

/* Defaults: a report with thousands of races is a few MiB; nesting in pyrace-report/1 is 6. */
#define JSON_READ_MAX_SIZE  (64u << 20)
#define JSON_READ_MAX_DEPTH 64

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_member;

struct json_value {
	enum json_type type;
	union {
		double number; /* JSON_NUMBER: finite */
		struct {
			char *s; /* NUL-terminated; may also hold NULs from \u0000, see len */
			size_t len;
		} string;
		struct {
			struct json_value *items;
			size_t n;
		} array;
		struct {
			struct json_member *members; /* in document order */
			size_t n;
		} object;
	} u;
};

struct json_member {
	char *key;
	size_t keylen;
	struct json_value value;
};

struct json_limits {
	size_t max_size; /* bytes of input; 0 for JSON_READ_MAX_SIZE */
	int max_depth;	 /* nested arrays and objects; 0 for JSON_READ_MAX_DEPTH */
};

/* Parses exactly one JSON value, with only whitespace around it. Strict: UTF-8 input only (no
 * BOM), no comments, no trailing commas, no leading zeros or '+', no NaN/Infinity, numbers
 * must fit a double, \u escapes must pair their surrogates, no raw control characters in
 * strings. Returns NULL with one line ("line L, column C: ...") in err on any error. */
struct json_value *json_parse(const char *text, size_t len, const struct json_limits *limits,
			      char *err, size_t errlen);

/* Reads the file at path (at most limits->max_size bytes) and parses it; err names the file. */
struct json_value *json_parse_file(const char *path, const struct json_limits *limits, char *err,
				   size_t errlen);

void json_free(struct json_value *v);

/* The member `key` of an object (the first one if the document repeats it), or NULL when v is
 * not an object or has no such member. */
const struct json_value *json_get(const struct json_value *v, const char *key);

/* The string, or NULL when v is NULL or not a string. */
const char *json_string(const struct json_value *v);

#endif
