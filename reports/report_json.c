/* Writes a report as the pyrace-report/1 JSON document of shared/spec/report.md. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

/* Deepest nesting the document reaches is 6 (root, races, race, access, stack, frame). */
#define MAX_DEPTH 8

struct json {
	FILE *out;
	int depth;
	bool nonempty[MAX_DEPTH]; /* whether the container at that depth has a member yet */
};

/* Length of the valid UTF-8 sequence at p, or 0 with *skip set to the length of its maximal
 * invalid prefix: one U+FFFD per maximal subpart, as Unicode advises and Python decodes, so a
 * consumer sees the same replacement it would get from decoding the bytes itself. */
static size_t utf8_valid(const unsigned char *p, size_t n, size_t *skip)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		*skip = 1;
		return 0;
	}
	for (size_t k = 1; k <= need; k++) {
		if (k >= n || p[k] < lo || p[k] > hi) {
			*skip = k;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

/* Keys, paths and thread names come from the traced program and may hold any bytes; the
 * document must stay valid JSON and valid UTF-8 whatever they hold. */
static void write_string_n(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	fputc('"', out);
	while (i < n) {
		unsigned char c = p[i];
		size_t len, skip;

		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			i++;
		} else if ((len = utf8_valid(p + i, n - i, &skip)) > 0) {
			fwrite(p + i, 1, len, out);
			i += len;
		} else {
			fputs("\xef\xbf\xbd", out);
			i += skip;
		}
	}
	fputc('"', out);
}

static void write_string(FILE *out, const char *s)
{
	if (s)
		write_string_n(out, s, strlen(s));
	else
		fputs("null", out);
}

static void newline(struct json *j)
{
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

/* Starts a member of the open container: the comma before it, its line and, in an object, its
 * key. key is NULL for array elements. */
static void member(struct json *j, const char *key)
{
	if (j->nonempty[j->depth])
		fputc(',', j->out);
	j->nonempty[j->depth] = true;
	newline(j);
	if (key) {
		write_string(j->out, key);
		fputs(": ", j->out);
	}
}

static void open_(struct json *j, const char *key, char bracket)
{
	if (j->depth > 0)
		member(j, key);
	fputc(bracket, j->out);
	j->depth++;
	j->nonempty[j->depth] = false;
}

/* An empty container closes on its own line as `[]`, the way the contract shows deadlocks. */
static void close_(struct json *j, char bracket)
{
	bool had_members = j->nonempty[j->depth];

	j->depth--;
	if (had_members)
		newline(j);
	fputc(bracket, j->out);
}

static void str_member(struct json *j, const char *key, const char *val)
{
	member(j, key);
	write_string(j->out, val);
}

static void u64_member(struct json *j, const char *key, uint64_t val)
{
	member(j, key);
	fprintf(j->out, "%" PRIu64, val);
}

static void int_member(struct json *j, const char *key, long long val)
{
	member(j, key);
	fprintf(j->out, "%lld", val);
}

static void bool_member(struct json *j, const char *key, bool val)
{
	member(j, key);
	fputs(val ? "true" : "false", j->out);
}

/* Microsecond precision without a tail of zeros (1.93, not 1.930000 nor 1.9299999999999999);
 * a locale with a decimal comma must not break the document, and JSON has no NaN. */
static void double_member(struct json *j, const char *key, double val)
{
	char buf[512];

	member(j, key);
	if (!isfinite(val)) {
		fputs("null", j->out);
		return;
	}
	snprintf(buf, sizeof buf, "%.6f", val);
	for (char *p = buf; *p; p++) {
		if (*p == ',')
			*p = '.';
	}
	char *dot = strchr(buf, '.');
	if (dot) {
		char *end = buf + strlen(buf);
		while (end > dot + 2 && end[-1] == '0')
			end--;
		*end = '\0';
	}
	fputs(buf, j->out);
}

static void write_access(struct json *j, const char *key, const struct report_access *a)
{
	open_(j, key, '{');
	str_member(j, "op", a->op);
	open_(j, "thread", '{');
	u64_member(j, "tid", a->thread.tid);
	str_member(j, "name", a->thread.name);
	close_(j, '}');
	open_(j, "locks_held", '[');
	for (size_t i = 0; i < a->nlocks && a->locks_held; i++)
		str_member(j, NULL, a->locks_held[i]);
	close_(j, ']');
	open_(j, "stack", '[');
	for (size_t i = 0; i < a->stack.nframes && a->stack.frames; i++) {
		const struct report_frame *f = &a->stack.frames[i];

		open_(j, NULL, '{');
		str_member(j, "file", f->file);
		str_member(j, "function", f->function);
		/* -1 (unknown) stays a number so that consumers can rely on the type */
		int_member(j, "line", f->line);
		close_(j, '}');
	}
	close_(j, ']');
	if (a->stack.truncated)
		bool_member(j, "stack_truncated", true);
	close_(j, '}');
}

static void write_race(struct json *j, const struct report_race *race)
{
	open_(j, NULL, '{');
	member(j, "id");
	write_string_n(j->out, race->id, strnlen(race->id, sizeof race->id));
	str_member(j, "kind", race->kind);
	open_(j, "variable", '{');
	str_member(j, "module", race->variable.module);
	str_member(j, "name", race->variable.name);
	str_member(j, "container", race->variable.container);
	if (race->variable.key)
		str_member(j, "key", race->variable.key);
	if (race->variable.key_type)
		str_member(j, "key_type", race->variable.key_type);
	close_(j, '}');
	write_access(j, "current", &race->current);
	write_access(j, "previous", &race->previous);
	u64_member(j, "occurrences", race->occurrences);
	close_(j, '}');
}

int report_write_json(const struct report *r, FILE *out)
{
	struct json j = {.out = out};
	const struct report_target *t = &r->target;
	const struct report_stats *st = &r->stats;

	open_(&j, NULL, '{');
	str_member(&j, "schema", "pyrace-report/1");
	open_(&j, "tool", '{');
	str_member(&j, "name", "pyrace");
	str_member(&j, "version", PYRACE_VERSION);
	close_(&j, '}');

	open_(&j, "target", '{');
	int_member(&j, "pid", t->pid);
	open_(&j, "argv", '[');
	for (size_t i = 0; i < t->argc && t->argv; i++)
		str_member(&j, NULL, t->argv[i]);
	close_(&j, ']');
	open_(&j, "python", '{');
	str_member(&j, "version", t->python_version);
	str_member(&j, "executable", t->executable);
	str_member(&j, "build", t->build);
	close_(&j, '}');
	close_(&j, '}');

	open_(&j, "stats", '{');
	u64_member(&j, "events", st->events);
	u64_member(&j, "lost_events", st->lost_events);
	u64_member(&j, "threads", st->threads);
	double_member(&j, "duration_s", st->duration_s);
	u64_member(&j, "watched_dicts", st->watched_dicts);
	u64_member(&j, "truncated_stacks", st->truncated_stacks);
	u64_member(&j, "unresolved_frames", st->unresolved_frames);
	bool_member(&j, "ended_early", st->ended_early != 0);
	close_(&j, '}');

	open_(&j, "races", '[');
	for (size_t i = 0; i < r->nraces && r->races; i++)
		write_race(&j, &r->races[i]);
	close_(&j, ']');
	open_(&j, "deadlocks", '[');
	close_(&j, ']');
	u64_member(&j, "suppressed", r->suppressed);
	close_(&j, '}');
	fputc('\n', out);

	/* errors of buffered writes show only once the buffer is flushed */
	if (fflush(out) != 0)
		return -1;
	return ferror(out) ? -1 : 0;
}
