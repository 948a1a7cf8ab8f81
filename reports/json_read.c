/* A small, strict JSON reader (RFC 8259) for reading pyrace's own reports back, with limits. */
#include "json_read.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_write.h"

struct parser {
	const unsigned char *start, *p, *end;
	int depth, max_depth;
	char *err;
	size_t errlen;
	bool failed;
};

static void fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Only the first error is kept; its position is where the parser stands. */
static void fail(struct parser *ps, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	size_t line = 1, col = 1;

	if (ps->failed)
		return;
	ps->failed = true;
	for (const unsigned char *q = ps->start; q < ps->p && q < ps->end; q++) {
		if (*q == '\n')
			line++, col = 1;
		else
			col++;
	}
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (ps->err && ps->errlen)
		snprintf(ps->err, ps->errlen, "line %zu, column %zu: %s", line, col, what);
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end &&
	       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static void unexpected(struct parser *ps, const char *wanted)
{
	if (ps->p >= ps->end)
		fail(ps, "unexpected end of input, expected %s", wanted);
	else if (*ps->p >= 0x20 && *ps->p < 0x7f)
		fail(ps, "unexpected '%c', expected %s", *ps->p, wanted);
	else
		fail(ps, "unexpected byte 0x%02x, expected %s", *ps->p, wanted);
}

static bool parse_value(struct parser *ps, struct json_value *out);

static void free_value(struct json_value *v)
{
	switch (v->type) {
	case JSON_STRING:
		free(v->u.string.s);
		break;
	case JSON_ARRAY:
		for (size_t i = 0; i < v->u.array.n; i++)
			free_value(&v->u.array.items[i]);
		free(v->u.array.items);
		break;
	case JSON_OBJECT:
		for (size_t i = 0; i < v->u.object.n; i++) {
			free(v->u.object.members[i].key);
			free_value(&v->u.object.members[i].value);
		}
		free(v->u.object.members);
		break;
	default:
		break;
	}
	v->type = JSON_NULL;
}

static int hex4(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* \uXXXX at ps->p (after the backslash and 'u'), with its low surrogate if it is a high one. */
static bool parse_u_escape(struct parser *ps, uint32_t *cp)
{
	uint32_t hi, lo;

	if (ps->end - ps->p < 4 || hex4(ps->p, &hi)) {
		fail(ps, "bad \\u escape: expected 4 hex digits");
		return false;
	}
	ps->p += 4;
	if (hi >= 0xdc00 && hi <= 0xdfff) {
		fail(ps, "lone low surrogate \\u%04x", (unsigned)hi);
		return false;
	}
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return true;
	}
	if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) ||
	    lo < 0xdc00 || lo > 0xdfff) {
		fail(ps, "high surrogate \\u%04x not followed by a low one", (unsigned)hi);
		return false;
	}
	ps->p += 6;
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	return true;
}

/* At the opening quote. The decoded text is never longer than the source, so one allocation of
 * the source span suffices. */
static bool parse_string(struct parser *ps, char **out, size_t *outlen)
{
	const unsigned char *q = ++ps->p;

	while (q < ps->end && *q != '"') {
		if (*q == '\\' && q + 1 < ps->end)
			q++;
		q++;
	}
	if (q >= ps->end) {
		ps->p = ps->end;
		fail(ps, "unterminated string");
		return false;
	}
	char *buf = malloc((size_t)(q - ps->p) + 1);
	size_t n = 0;
	if (!buf) {
		fail(ps, "out of memory");
		return false;
	}
	while (*ps->p != '"') {
		unsigned char c = *ps->p;
		size_t len, skip;

		if (c == '\\') {
			uint32_t cp;
			ps->p++;
			switch (*ps->p++) {
			case '"':
				buf[n++] = '"';
				break;
			case '\\':
				buf[n++] = '\\';
				break;
			case '/':
				buf[n++] = '/';
				break;
			case 'b':
				buf[n++] = '\b';
				break;
			case 'f':
				buf[n++] = '\f';
				break;
			case 'n':
				buf[n++] = '\n';
				break;
			case 'r':
				buf[n++] = '\r';
				break;
			case 't':
				buf[n++] = '\t';
				break;
			case 'u':
				if (!parse_u_escape(ps, &cp))
					goto bad;
				n += put_utf8(buf + n, cp);
				break;
			default:
				ps->p--;
				fail(ps, "bad escape '\\%c'",
				     *ps->p >= 0x20 && *ps->p < 0x7f ? *ps->p : '?');
				goto bad;
			}
		} else if (c < 0x20) {
			fail(ps, "raw control character 0x%02x in a string", c);
			goto bad;
		} else if ((len = utf8_sequence(ps->p, (size_t)(ps->end - ps->p), &skip)) > 0) {
			memcpy(buf + n, ps->p, len);
			n += len;
			ps->p += len;
		} else {
			fail(ps, "invalid UTF-8 in a string");
			goto bad;
		}
	}
	ps->p++;
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return true;
bad:
	free(buf);
	return false;
}

static double to_double(const char *s)
{
	static locale_t c_locale;

	if (!c_locale)
		c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	return c_locale ? strtod_l(s, NULL, c_locale) : strtod(s, NULL);
}

static bool digits(struct parser *ps)
{
	const unsigned char *from = ps->p;

	while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
		ps->p++;
	return ps->p > from;
}

static bool parse_number(struct parser *ps, struct json_value *out)
{
	const unsigned char *from = ps->p;

	if (*ps->p == '-')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '0') {
		ps->p++;
		if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
			fail(ps, "leading zero in a number");
			return false;
		}
	} else if (!digits(ps)) {
		unexpected(ps, "a digit");
		return false;
	}
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (!digits(ps)) {
			unexpected(ps, "a digit after '.'");
			return false;
		}
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (!digits(ps)) {
			unexpected(ps, "a digit in the exponent");
			return false;
		}
	}
	size_t n = (size_t)(ps->p - from);
	char small[64];
	char *text = n < sizeof small ? small : malloc(n + 1);
	if (!text) {
		fail(ps, "out of memory");
		return false;
	}
	memcpy(text, from, n);
	text[n] = '\0';
	double d = to_double(text);
	if (text != small)
		free(text);
	if (!isfinite(d)) {
		ps->p = from;
		fail(ps, "number out of range");
		return false;
	}
	out->type = JSON_NUMBER;
	out->u.number = d;
	return true;
}

static bool literal(struct parser *ps, const char *word, enum json_type type,
		    struct json_value *out)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) {
		fail(ps, "invalid literal, expected %s", word);
		return false;
	}
	ps->p += n;
	out->type = type;
	return true;
}

static bool grow(struct parser *ps, void **items, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t newcap = *cap ? *cap * 2 : 4;
	void *grown = realloc(*items, newcap * size);
	if (!grown) {
		fail(ps, "out of memory");
		return false;
	}
	*items = grown;
	*cap = newcap;
	return true;
}

static bool enter(struct parser *ps)
{
	if (++ps->depth > ps->max_depth) {
		fail(ps, "nesting deeper than %d", ps->max_depth);
		return false;
	}
	ps->p++;
	skip_ws(ps);
	return true;
}

static bool parse_array(struct parser *ps, struct json_value *out)
{
	size_t cap = 0;

	out->type = JSON_ARRAY;
	out->u.array.items = NULL;
	out->u.array.n = 0;
	if (!enter(ps))
		return false;
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		ps->depth--;
		return true;
	}
	for (;;) {
		void *items = out->u.array.items;
		if (!grow(ps, &items, &cap, out->u.array.n, sizeof(struct json_value)))
			return false;
		out->u.array.items = items;
		struct json_value *item = &out->u.array.items[out->u.array.n];
		item->type = JSON_NULL;
		out->u.array.n++; /* counted before it is parsed: a half-parsed item is freed too */
		if (!parse_value(ps, item))
			return false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			ps->depth--;
			return true;
		}
		unexpected(ps, "',' or ']'");
		return false;
	}
}

static bool parse_object(struct parser *ps, struct json_value *out)
{
	size_t cap = 0;

	out->type = JSON_OBJECT;
	out->u.object.members = NULL;
	out->u.object.n = 0;
	if (!enter(ps))
		return false;
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		ps->depth--;
		return true;
	}
	for (;;) {
		if (ps->p >= ps->end || *ps->p != '"') {
			unexpected(ps, "a string key");
			return false;
		}
		void *members = out->u.object.members;
		if (!grow(ps, &members, &cap, out->u.object.n, sizeof(struct json_member)))
			return false;
		out->u.object.members = members;
		struct json_member *m = &out->u.object.members[out->u.object.n];
		m->value.type = JSON_NULL;
		if (!parse_string(ps, &m->key, &m->keylen))
			return false;
		out->u.object.n++; /* the key is owned from here on */
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			unexpected(ps, "':'");
			return false;
		}
		ps->p++;
		if (!parse_value(ps, &m->value))
			return false;
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_ws(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			ps->depth--;
			return true;
		}
		unexpected(ps, "',' or '}'");
		return false;
	}
}

static bool parse_value(struct parser *ps, struct json_value *out)
{
	skip_ws(ps);
	if (ps->p >= ps->end) {
		unexpected(ps, "a value");
		return false;
	}
	switch (*ps->p) {
	case '{':
		return parse_object(ps, out);
	case '[':
		return parse_array(ps, out);
	case '"':
		if (!parse_string(ps, &out->u.string.s, &out->u.string.len))
			return false;
		out->type = JSON_STRING;
		return true;
	case 't':
		return literal(ps, "true", JSON_TRUE, out);
	case 'f':
		return literal(ps, "false", JSON_FALSE, out);
	case 'n':
		return literal(ps, "null", JSON_NULL, out);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps, out);
		unexpected(ps, "a value");
		return false;
	}
}

struct json_value *json_parse(const char *text, size_t len, const struct json_limits *limits,
			      char *err, size_t errlen)
{
	size_t max_size = limits && limits->max_size ? limits->max_size : JSON_READ_MAX_SIZE;
	int max_depth = limits && limits->max_depth > 0 ? limits->max_depth : JSON_READ_MAX_DEPTH;
	struct parser ps = {.start = (const unsigned char *)text,
			    .p = (const unsigned char *)text,
			    .end = (const unsigned char *)text + len,
			    .max_depth = max_depth,
			    .err = err,
			    .errlen = errlen};

	if (err && errlen)
		err[0] = '\0';
	if (len > max_size) {
		if (err && errlen)
			snprintf(err, errlen, "larger than %zu bytes", max_size);
		return NULL;
	}
	struct json_value *v = calloc(1, sizeof(*v));
	if (!v) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (parse_value(&ps, v)) {
		skip_ws(&ps);
		if (ps.p == ps.end)
			return v;
		fail(&ps, "unexpected data after the document");
	}
	free_value(v);
	free(v);
	return NULL;
}

struct json_value *json_parse_file(const char *path, const struct json_limits *limits, char *err,
				   size_t errlen)
{
	size_t max_size = limits && limits->max_size ? limits->max_size : JSON_READ_MAX_SIZE;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	struct json_value *v = NULL;
	for (;;) {
		if (!buf) {
			snprintf(err, errlen, "%s: out of memory", path);
			break;
		}
		if (len == cap) {
			if (len > max_size) {
				snprintf(err, errlen, "%s: larger than %zu bytes", path, max_size);
				break;
			}
			char *grown = realloc(buf, cap * 2);
			if (!grown) {
				snprintf(err, errlen, "%s: out of memory", path);
				break;
			}
			buf = grown;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (got == 0) {
			char why[400];
			v = json_parse(buf, len, limits, why, sizeof why);
			if (!v)
				snprintf(err, errlen, "%s: %s", path, why);
			break;
		}
		len += (size_t)got;
	}
	free(buf);
	close(fd);
	return v;
}

void json_free(struct json_value *v)
{
	if (!v)
		return;
	free_value(v);
	free(v);
}

const struct json_value *json_get(const struct json_value *v, const char *key)
{
	if (!v || v->type != JSON_OBJECT)
		return NULL;
	size_t n = strlen(key);
	for (size_t i = 0; i < v->u.object.n; i++) {
		const struct json_member *m = &v->u.object.members[i];
		if (m->keylen == n && memcmp(m->key, key, n) == 0)
			return &m->value;
	}
	return NULL;
}

const char *json_string(const struct json_value *v)
{
	return v && v->type == JSON_STRING ? v->u.string.s : NULL;
}
