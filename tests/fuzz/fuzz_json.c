/* libFuzzer target: bytes as a JSON document → the strict reader → the baseline loader.
 * Checks what must hold whatever the bytes:
 * - reading from memory and from a file agree, and so does a depth limit with the real depth;
 * - an accepted document written back with pyrace's JSON writer reads back equal (numbers
 *   written exactly here, since the writer's own jw_double keeps microseconds only, which is
 *   checked separately), or, deeper than the writer goes, the writer says it is too deep;
 * - the baseline loader accepts exactly the documents its contract describes, keeps a refused
 *   one from changing the baseline, finds every id of an accepted one, keeps ids sorted and
 *   unique and summaries printable;
 * - the races of an accepted baseline, rebuilt as a report and written with report_write_json,
 *   load back as the same ids with the same summaries. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "baseline.h"
#include "json_read.h"
#include "json_write.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Ids loaded before the input: a refused document must leave them, and only them. */
static const char base_report[] =
    "{\"schema\": \"pyrace-report/1\", \"races\": [{\"id\": \"73121850c5cf645b\"},"
    " {\"id\": \"868331cfc8713bea\", \"kind\": \"write-read\"}]}";

struct memfile {
	int fd;
	char path[64];
};

static struct memfile input_file = {-1, ""}, base_file = {-1, ""}, rewritten_file = {-1, ""};

static void store(struct memfile *f, const void *data, size_t size)
{
	if (f->fd < 0) {
		f->fd = memfd_create("pyrace-fuzz-json", MFD_CLOEXEC);
		if (f->fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
	}
	if (ftruncate(f->fd, 0) != 0)
		abort();
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(f->fd, (const char *)data + done, size - done, (off_t)done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

static void fail(const char *what)
{
	fprintf(stderr, "%s\n", what);
	abort();
}

/* ---- the reader ------------------------------------------------------------------------ */

static int depth_of(const struct json_value *v)
{
	int d = 0;

	if (v->type == JSON_ARRAY) {
		for (size_t i = 0; i < v->u.array.n; i++) {
			int k = depth_of(&v->u.array.items[i]);
			d = k > d ? k : d;
		}
		return d + 1;
	}
	if (v->type == JSON_OBJECT) {
		for (size_t i = 0; i < v->u.object.n; i++) {
			int k = depth_of(&v->u.object.members[i].value);
			d = k > d ? k : d;
		}
		return d + 1;
	}
	return 0;
}

static bool equal(const struct json_value *a, const struct json_value *b)
{
	if (a->type != b->type)
		return false;
	switch (a->type) {
	case JSON_NUMBER:
		/* bitwise, so that -0 stays -0 */
		return memcmp(&a->u.number, &b->u.number, sizeof(double)) == 0;
	case JSON_STRING:
		return a->u.string.len == b->u.string.len &&
		       memcmp(a->u.string.s, b->u.string.s, a->u.string.len) == 0 &&
		       a->u.string.s[a->u.string.len] == '\0';
	case JSON_ARRAY:
		if (a->u.array.n != b->u.array.n)
			return false;
		for (size_t i = 0; i < a->u.array.n; i++)
			if (!equal(&a->u.array.items[i], &b->u.array.items[i]))
				return false;
		return true;
	case JSON_OBJECT:
		if (a->u.object.n != b->u.object.n)
			return false;
		for (size_t i = 0; i < a->u.object.n; i++) {
			const struct json_member *x = &a->u.object.members[i],
						 *y = &b->u.object.members[i];
			if (x->keylen != y->keylen || memcmp(x->key, y->key, x->keylen) != 0 ||
			    x->key[x->keylen] != '\0' || !equal(&x->value, &y->value))
				return false;
		}
		return true;
	default:
		return true;
	}
}

/* A member's key and value, or an array item or the root when key is NULL. Containers go through
 * jw_open and jw_close; a key holding \u0000, which jw_open's C-string key would cut, is written
 * by hand first, and jw_open is then told the member has begun so that it adds no comma. */
static void write_value(struct json_writer *j, const char *key, size_t keylen,
			const struct json_value *v)
{
	bool container = v->type == JSON_ARRAY || v->type == JSON_OBJECT;
	char bracket = v->type == JSON_ARRAY ? '[' : '{';

	if (key && memchr(key, '\0', keylen)) {
		jw_member(j, NULL);
		json_write_string_n(j->out, key, keylen);
		fputs(": ", j->out);
		if (container) {
			j->nonempty[j->depth] = false;
			jw_open(j, NULL, bracket);
		}
	} else if (container) {
		jw_open(j, key, bracket);
	} else if (j->depth > 0) {
		jw_member(j, key);
	}
	switch (v->type) {
	case JSON_NULL:
		fputs("null", j->out);
		break;
	case JSON_FALSE:
	case JSON_TRUE:
		fputs(v->type == JSON_TRUE ? "true" : "false", j->out);
		break;
	case JSON_NUMBER:
		fprintf(j->out, "%.17g", v->u.number);
		break;
	case JSON_STRING:
		json_write_string_n(j->out, v->u.string.s, v->u.string.len);
		break;
	case JSON_ARRAY:
		for (size_t i = 0; i < v->u.array.n; i++)
			write_value(j, NULL, 0, &v->u.array.items[i]);
		jw_close(j, ']');
		break;
	case JSON_OBJECT:
		for (size_t i = 0; i < v->u.object.n; i++) {
			const struct json_member *m = &v->u.object.members[i];
			write_value(j, m->key, m->keylen, &m->value);
		}
		jw_close(j, '}');
		break;
	}
}

static void check_round_trip(const struct json_value *v)
{
	char *buf = NULL, err[512];
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct json_writer j = {.out = m};

	if (!m)
		abort();
	write_value(&j, NULL, 0, v);
	if (fclose(m) != 0)
		abort();
	/* past the writer's depth the document cannot be right, and the writer must say so */
	if (j.too_deep != (depth_of(v) >= JSON_WRITE_MAX_DEPTH))
		fail("too_deep does not match the depth of the document");
	if (j.too_deep) {
		free(buf);
		return;
	}
	struct json_value *back = json_parse(buf, len, NULL, err, sizeof err);
	if (!back) {
		fprintf(stderr, "written document does not parse: %s\n%.*s\n", err,
			(int)(len < 2000 ? len : 2000), buf);
		abort();
	}
	if (!equal(v, back))
		fail("written document reads back different");
	json_free(back);
	free(buf);
}

/* jw_double keeps microseconds: what it writes must parse and be that close. */
static void check_doubles(const struct json_value *v)
{
	if (v->type == JSON_NUMBER) {
		char *buf = NULL, err[256];
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		struct json_writer j = {.out = m, .depth = 1, .nonempty = {false, true}};
		if (!m)
			abort();
		jw_double(&j, NULL, v->u.number);
		if (fclose(m) != 0)
			abort();
		/* past the ",\n  " that jw_member puts before a member */
		const char *num = buf + strspn(buf, ",\n ");
		struct json_value *back =
		    json_parse(num, len - (size_t)(num - buf), NULL, err, sizeof err);
		if (!back || back->type != JSON_NUMBER) {
			fprintf(stderr, "jw_double(%.17g) wrote '%s': %s\n", v->u.number, buf,
				back ? "not a number" : err);
			abort();
		}
		double x = v->u.number, y = back->u.number;
		if (fabs(x - y) > 5.0000001e-7 + 1e-15 * fabs(x)) {
			fprintf(stderr, "jw_double(%.17g) wrote '%s'\n", x, buf);
			abort();
		}
		json_free(back);
		free(buf);
	} else if (v->type == JSON_ARRAY) {
		for (size_t i = 0; i < v->u.array.n; i++)
			check_doubles(&v->u.array.items[i]);
	} else if (v->type == JSON_OBJECT) {
		for (size_t i = 0; i < v->u.object.n; i++)
			check_doubles(&v->u.object.members[i].value);
	}
}

/* ---- the baseline loader ---------------------------------------------------------------- */

static bool is_race_id(const struct json_value *v)
{
	if (!v || v->type != JSON_STRING || v->u.string.len != 16)
		return false;
	for (size_t i = 0; i < 16; i++)
		if (!strchr("0123456789abcdef", v->u.string.s[i]) || v->u.string.s[i] == '\0')
			return false;
	return true;
}

/* What baseline.h promises to accept, decided independently of baseline.c. */
static bool acceptable(const struct json_value *doc)
{
	const char *schema = json_string(json_get(doc, "schema"));
	const struct json_value *races = json_get(doc, "races");

	if (!doc || doc->type != JSON_OBJECT || !schema || strcmp(schema, "pyrace-report/1") != 0 ||
	    !races || races->type != JSON_ARRAY)
		return false;
	for (size_t i = 0; i < races->u.array.n; i++)
		if (!is_race_id(json_get(&races->u.array.items[i], "id")))
			return false;
	return true;
}

static void check_baseline(const struct baseline *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct baseline_race *r = &b->races[i];
		if (strlen(r->id) != 16 || strspn(r->id, "0123456789abcdef") != 16)
			fail("baseline id is not 16 lowercase hex digits");
		if (i > 0 && strcmp(b->races[i - 1].id, r->id) >= 0)
			fail("baseline ids not sorted and unique");
		if (!baseline_has(b, r->id))
			fail("baseline_has misses an id of the baseline");
		if (!r->summary)
			fail("baseline race without a summary");
		for (const unsigned char *p = (const unsigned char *)r->summary; *p; p++) {
			if (*p < 0x20 || *p == 0x7f ||
			    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
				fail("control character in a baseline summary");
		}
	}
}

static const struct baseline_race *find(const struct baseline *b, const char *id)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->races[i].id, id) == 0)
			return &b->races[i];
	return NULL;
}

static size_t count_id(const struct json_value *races, const char *id)
{
	size_t n = 0;

	for (size_t i = 0; i < races->u.array.n; i++)
		n += strcmp(json_string(json_get(&races->u.array.items[i], "id")), id) == 0;
	return n;
}

/* The report model of one race as the loader's summary sees it: variable, kind, and the
 * innermost frame of the current stack. */
struct rebuilt {
	struct report_frame frame;
	struct report_race race;
};

static void rebuild(const struct json_value *src, struct rebuilt *out)
{
	const struct json_value *var = json_get(src, "variable");
	const struct json_value *stack = json_get(json_get(src, "current"), "stack");

	memset(out, 0, sizeof *out);
	memcpy(out->race.id, json_string(json_get(src, "id")), 17);
	out->race.kind = json_string(json_get(src, "kind"));
	out->race.variable = (struct report_variable){
	    .module = json_string(json_get(var, "module")),
	    .name = json_string(json_get(var, "name")),
	    .container = json_string(json_get(var, "container")),
	    .key = json_string(json_get(var, "key")),
	    .key_type = json_string(json_get(var, "key_type")),
	};
	if (stack && stack->type == JSON_ARRAY && stack->u.array.n > 0) {
		const struct json_value *top = &stack->u.array.items[0];
		const struct json_value *line = json_get(top, "line");
		out->frame.file = json_string(json_get(top, "file"));
		out->frame.function = json_string(json_get(top, "function"));
		out->frame.line =
		    line && line->type == JSON_NUMBER && line->u.number >= 1 && line->u.number < 1e9
			? (int)line->u.number
			: -1;
		out->race.current.stack.frames = &out->frame;
		out->race.current.stack.nframes = 1;
	}
	out->race.occurrences = 1;
}

static void check_report_round_trip(const struct json_value *doc, const struct baseline *b)
{
	const struct json_value *races = json_get(doc, "races");
	size_t n = races->u.array.n;
	struct rebuilt *rb = calloc(n ? n : 1, sizeof *rb);
	struct report_race *list = calloc(n ? n : 1, sizeof *list);
	char *buf = NULL, err[512];
	size_t len = 0;

	if (!rb || !list)
		abort();
	for (size_t i = 0; i < n; i++) {
		rebuild(&races->u.array.items[i], &rb[i]);
		list[i] = rb[i].race;
	}
	struct report r = {.races = list, .nraces = n};
	FILE *m = open_memstream(&buf, &len);
	if (!m || report_write_json(&r, m) != 0 || fclose(m) != 0)
		abort();
	store(&rewritten_file, buf, len);
	struct baseline again = {0};
	if (baseline_load(&again, rewritten_file.path, err, sizeof err) != 0) {
		fprintf(stderr, "a rewritten baseline does not load: %s\n", err);
		abort();
	}
	check_baseline(&again);
	for (size_t i = 0; i < n; i++) {
		const struct baseline_race *x = find(&again, rb[i].race.id);
		const struct baseline_race *y = find(b, rb[i].race.id);
		if (!x || !y)
			fail("an id is lost when the baseline is written again");
		/* with the same id twice (in the document, or also in the base baseline), which
		 * summary survives is not specified */
		if (count_id(races, rb[i].race.id) == 1 && !strstr(base_report, rb[i].race.id) &&
		    strcmp(x->summary, y->summary) != 0) {
			fprintf(stderr, "summary changed when written again:\n  %s\n  %s\n",
				y->summary, x->summary);
			abort();
		}
	}
	baseline_free(&again);
	free(buf);
	free(rb);
	free(list);
}

static void check_baseline_load(const struct json_value *doc)
{
	struct baseline b = {0};
	char err[512];

	if (baseline_load(&b, base_file.path, err, sizeof err) != 0 || b.n != 2)
		abort();
	int rc = baseline_load(&b, input_file.path, err, sizeof err);
	if ((rc == 0) != acceptable(doc)) {
		fprintf(stderr,
			"baseline_load returned %d for a document that is %sacceptable: %s\n", rc,
			acceptable(doc) ? "" : "not ", rc ? err : "");
		abort();
	}
	if (rc != 0) {
		if (strchr(err, '\n') || !err[0])
			fail("baseline error is not one line");
		if (b.n != 2 || strcmp(b.races[0].id, "73121850c5cf645b") != 0 ||
		    strcmp(b.races[1].id, "868331cfc8713bea") != 0)
			fail("a refused baseline changed the loaded one");
		baseline_free(&b);
		return;
	}
	check_baseline(&b);
	const struct json_value *races = json_get(doc, "races");
	for (size_t i = 0; i < races->u.array.n; i++)
		if (!baseline_has(&b, json_string(json_get(&races->u.array.items[i], "id"))))
			fail("baseline_has misses an id of the document");
	if (!baseline_has(&b, "73121850c5cf645b") || baseline_has(&b, "not-an-id") ||
	    baseline_has(&b, ""))
		fail("baseline_has is wrong about fixed ids");
	if (b.n > 2 + races->u.array.n)
		fail("more baseline races than ids");
	check_report_round_trip(doc, &b);
	baseline_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], err2[512];
	const char *text = (const char *)data;

	if (base_file.fd < 0)
		store(&base_file, base_report, strlen(base_report));
	store(&input_file, data, size);

	struct json_value *v = json_parse(text, size, NULL, err, sizeof err);
	struct json_value *f = json_parse_file(input_file.path, NULL, err2, sizeof err2);
	if ((v == NULL) != (f == NULL) || (v && !equal(v, f))) {
		fprintf(stderr, "memory and file parses differ: '%s' / '%s'\n", err, err2);
		abort();
	}
	json_free(f);
	if (!v) {
		if (!err[0] || strchr(err, '\n') || strncmp(err, "line ", 5) != 0)
			fail("parse error is not one 'line L, column C: ...' line");
		check_baseline_load(NULL);
		return 0;
	}

	/* a depth limit refuses exactly the documents deeper than it */
	int depth = depth_of(v);
	struct json_limits limits = {.max_depth = 1 + (int)(size % 8)};
	struct json_value *limited = json_parse(text, size, &limits, err, sizeof err);
	if ((limited != NULL) != (depth <= limits.max_depth)) {
		fprintf(stderr, "depth %d with limit %d: %s\n", depth, limits.max_depth,
			limited ? "accepted" : err);
		abort();
	}
	json_free(limited);
	if (size > 0) {
		limits = (struct json_limits){.max_size = size - (size > 1)};
		limited = json_parse(text, size, &limits, err, sizeof err);
		if (limited && size > 1)
			fail("a document larger than max_size was accepted");
		json_free(limited);
	}

	check_round_trip(v);
	check_doubles(v);
	check_baseline_load(v);
	json_free(v);
	return 0;
}
