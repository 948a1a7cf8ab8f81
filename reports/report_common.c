/* Names a raced-on variable as a Python programmer would write it and derives stable race and
 * deadlock ids. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

/* The name goes either into a bounded buffer or straight into a hash, so that an id never
 * depends on how long a buffer happened to be. */
struct sink {
	char *buf;
	size_t len;
	size_t pos;
	bool full;
	uint64_t *hash;
};

static void fnv1a(uint64_t *h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		*h ^= p[i];
		*h *= FNV_PRIME;
	}
}

/* A unit is written whole or not at all, and nothing after the first unit that did not fit,
 * so a truncated name never ends in half an escape or shows a `]` whose key went missing. */
static void put(struct sink *s, const char *p, size_t n)
{
	if (s->hash) {
		fnv1a(s->hash, p, n);
		return;
	}
	if (s->full)
		return;
	if (n >= s->len - s->pos) {
		s->full = true;
		return;
	}
	memcpy(s->buf + s->pos, p, n);
	s->pos += n;
}

/* Like Python's repr of a str: keys may hold anything, and the name must stay on one line
 * and unambiguous. Bytes >= 0x80 pass through so non-ASCII keys stay readable. */
static void put_escaped(struct sink *s, const char *str, bool quoted)
{
	for (const unsigned char *p = (const unsigned char *)str; *p; p++) {
		char esc[8];

		if (quoted && (*p == '\'' || *p == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(s, esc, 2);
		} else if (*p == '\n') {
			put(s, "\\n", 2);
		} else if (*p == '\r') {
			put(s, "\\r", 2);
		} else if (*p == '\t') {
			put(s, "\\t", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *p);
			put(s, esc, 4);
		} else {
			put(s, (const char *)p, 1);
		}
	}
}

static bool is(const char *a, const char *b)
{
	return a && strcmp(a, b) == 0;
}

static void write_name(const struct report_variable *v, struct sink *s)
{
	put_escaped(s, v->module ? v->module : "?", false);
	put(s, ".", 1);
	put_escaped(s, v->name ? v->name : "?", false);
	if (is(v->container, "global") || is(v->container, "list"))
		return;
	if (is(v->container, "set")) {
		/* an element in braces, as Python writes a set; the whole set as {*} */
		bool str = is(v->key_type, "str");
		put(s, str ? "{'" : "{", str ? 2 : 1);
		put_escaped(s, v->key ? v->key : "*", str);
		put(s, str ? "'}" : "}", str ? 2 : 1);
		return;
	}
	if (v->key) {
		bool str = is(v->key_type, "str");

		put(s, str ? "['" : "[", str ? 2 : 1);
		put_escaped(s, v->key, str);
		put(s, str ? "']" : "]", str ? 2 : 1);
	} else if (is(v->container, "dict")) {
		put(s, "[*]", 3);
	}
}

/* Bytes are cut one at a time, so a multi-byte UTF-8 character may have been cut in two;
 * drop its first half rather than hand out invalid UTF-8. */
static size_t trim_partial_utf8(const char *buf, size_t end)
{
	size_t i = end, cont = 0;

	while (i > 0 && cont < 3 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80) {
		i--;
		cont++;
	}
	if (i == 0)
		return end;
	unsigned char lead = (unsigned char)buf[i - 1];
	size_t need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : lead >= 0xc0 ? 1 : 0;
	return lead >= 0xc0 && cont < need ? i - 1 : end;
}

void report_variable_name(const struct report_variable *v, char *buf, size_t len)
{
	if (!buf || len == 0)
		return;
	struct sink s = {.buf = buf, .len = len};
	write_name(v, &s);
	buf[s.full ? trim_partial_utf8(buf, s.pos) : s.pos] = '\0';
}

/* Only the base name of the file: the id must survive moving the code to another directory. */
static void frame_key(const struct report_stack *st, char *buf, size_t len)
{
	if (st->nframes == 0 || !st->frames) {
		snprintf(buf, len, "?");
		return;
	}
	const struct report_frame *f = &st->frames[0];
	const char *file = f->file ? f->file : "?";
	const char *slash = strrchr(file, '/');

	snprintf(buf, len, "%s:%s:%d", slash ? slash + 1 : file, f->function ? f->function : "?",
		 f->line);
}

/* Hashes name NUL frame NUL frame, the two frames in strcmp order. NUL cannot occur inside the
 * parts, so different inputs cannot run together into the same bytes. Changing any of this
 * changes every id and breaks users' baselines. */
void report_race_compute_id(struct report_race *race)
{
	uint64_t h = FNV_OFFSET;
	struct sink s = {.hash = &h};
	char a[2048], b[2048];

	write_name(&race->variable, &s);
	frame_key(&race->current.stack, a, sizeof a);
	frame_key(&race->previous.stack, b, sizeof b);
	const char *lo = strcmp(a, b) <= 0 ? a : b;
	const char *hi = lo == a ? b : a;
	fnv1a(&h, "", 1);
	fnv1a(&h, lo, strlen(lo));
	fnv1a(&h, "", 1);
	fnv1a(&h, hi, strlen(hi));
	snprintf(race->id, sizeof race->id, "%016" PRIx64, h);
}

/* A lock's name goes into a deadlock id only when it names something in the program: an
 * address changes from run to run. */
static bool is_named_lock(const char *name)
{
	return name && strncmp(name, "lock@", 5) != 0;
}

static void edge_key(const struct report_lock_edge *e, char *buf, size_t len)
{
	char held[2048], acquired[2048];

	frame_key(&e->held_stack, held, sizeof held);
	frame_key(&e->acquired_stack, acquired, sizeof acquired);
	snprintf(buf, len, "%s%c%s%c%s%c%s", is_named_lock(e->held) ? e->held : "", 0,
		 is_named_lock(e->acquired) ? e->acquired : "", 0, held, 0, acquired);
}

/* Like a race id: NUL-separated parts, each edge "held NUL acquired NUL held-frame NUL
 * acquired-frame", edges in cycle order from the one whose key is least, so the id does not
 * depend on where the analysis happened to start the cycle. */
void report_deadlock_compute_id(struct report_deadlock *deadlock)
{
	enum { KEY = 5200 };
	size_t n = deadlock->edges ? deadlock->nedges : 0;
	char(*keys)[KEY] = n ? calloc(n, KEY) : NULL;
	size_t lens[16] = {0}, start = 0;
	uint64_t h = FNV_OFFSET;

	if (n > sizeof lens / sizeof lens[0] || (n && !keys))
		n = 0; /* out of memory, or longer than any cycle made: an id from the names alone
			*/
	for (size_t i = 0; i < n; i++) {
		edge_key(&deadlock->edges[i], keys[i], KEY);
		lens[i] = 0;
		for (int parts = 0; parts < 4 && lens[i] < KEY; parts++)
			lens[i] += strnlen(keys[i] + lens[i], KEY - lens[i]) + 1;
		if (lens[i] > KEY)
			lens[i] = KEY;
		if (memcmp(keys[i], keys[start], KEY) < 0)
			start = i;
	}
	fnv1a(&h, "deadlock", 9);
	for (size_t k = 0; k < n; k++) {
		size_t i = (start + k) % n;
		fnv1a(&h, keys[i], lens[i]);
	}
	if (n == 0)
		for (size_t i = 0; i < deadlock->nlocks && deadlock->locks; i++)
			if (is_named_lock(deadlock->locks[i]))
				fnv1a(&h, deadlock->locks[i], strlen(deadlock->locks[i]) + 1);
	free(keys);
	snprintf(deadlock->id, sizeof deadlock->id, "%016" PRIx64, h);
}

void report_deadlock_cycle(const struct report_deadlock *deadlock, char *buf, size_t len)
{
	struct sink s = {.buf = buf, .len = len};

	if (!buf || len == 0)
		return;
	for (size_t i = 0; i <= deadlock->nlocks && deadlock->locks && deadlock->nlocks; i++) {
		const char *name = deadlock->locks[i % deadlock->nlocks];
		if (i > 0)
			put(&s, " => ", 4);
		put_escaped(&s, name ? name : "?", false);
	}
	buf[s.full ? trim_partial_utf8(buf, s.pos) : s.pos] = '\0';
}
