/* Renders a report as a SARIF 2.1.0 log, for code-scanning dashboards and IDEs. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"
#include "report.h"

#define RULE_ID		     "data-race"
#define FINGERPRINT	     "pyraceRaceId/v1"
#define DEADLOCK_RULE_ID     "lock-order-inversion"
#define DEADLOCK_FINGERPRINT "pyraceDeadlockId/v1"
#define DEADLOCK_SHORT	     "Lock-order inversion (potential deadlock)"
#define DEADLOCK_FULL                                                                              \
	"Threads take the same locks in orders that form a cycle, each while holding the one "     \
	"before it; in another schedule each can hold one lock of the cycle and wait forever for " \
	"the next."
#define SARIF_SCHEMA "https://json.schemastore.org/sarif-2.1.0.json"
#define RULE_SHORT   "Data race on a Python global"
#define RULE_FULL                                                                                  \
	"Two threads access the same module global, or the same key of a dict bound to one; at "   \
	"least one access writes, and no lock, thread start or join, or queue hand-off orders "    \
	"them."

/* Python names files that are not files like this: <string>, <frozen importlib._bootstrap>. */
static bool is_real_file(const char *file)
{
	size_t n = file ? strlen(file) : 0;

	return n > 0 && !(file[0] == '<' && file[n - 1] == '>');
}

/* A file: URI for an absolute path, a relative reference otherwise; every byte that is not an
 * unreserved character or '/' is percent-encoded, so any path makes a valid URI. */
static void write_uri(FILE *out, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";

	fputc('"', out);
	if (path[0] == '/')
		fputs("file://", out);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
			fputc(*p, out);
		} else {
			fputc('%', out);
			fputc(hex[*p >> 4], out);
			fputc(hex[*p & 15], out);
		}
	}
	fputc('"', out);
}

static void write_text_message(struct json_writer *j, const char *key, const char *text)
{
	jw_open(j, key, '{');
	jw_str(j, "text", text);
	jw_close(j, '}');
}

/* The members of a location object for one frame (the caller opens and closes it). */
static void write_frame_location(struct json_writer *j, const struct report_frame *f)
{
	if (is_real_file(f->file)) {
		jw_open(j, "physicalLocation", '{');
		jw_open(j, "artifactLocation", '{');
		jw_member(j, "uri");
		write_uri(j->out, f->file);
		jw_close(j, '}');
		if (f->line >= 1) {
			jw_open(j, "region", '{');
			jw_int(j, "startLine", f->line);
			jw_close(j, '}');
		}
		jw_close(j, '}');
	}
	if (f->function) {
		jw_open(j, "logicalLocations", '[');
		jw_open(j, NULL, '{');
		jw_str(j, "fullyQualifiedName", f->function);
		jw_str(j, "kind", "function");
		jw_close(j, '}');
		jw_close(j, ']');
	}
}

/* "write by thread "T" (tid 4) at FILE:LINE in FUNC" into a memory stream. */
static void describe_access(FILE *m, const struct report_access *a)
{
	fprintf(m, "%s by thread ", a->op ? a->op : "access");
	if (a->thread.name)
		fprintf(m, "\"%s\" ", a->thread.name);
	fprintf(m, "(tid %" PRIu32 ")", a->thread.tid);
	if (a->stack.nframes > 0 && a->stack.frames) {
		const struct report_frame *f = &a->stack.frames[0];
		fprintf(m, " at %s:", f->file ? f->file : "?");
		if (f->line >= 1)
			fprintf(m, "%d", f->line);
		else
			fputc('?', m);
		fprintf(m, " in %s", f->function ? f->function : "?");
	}
}

static char *race_message(const struct report_race *race, const char *var)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	fprintf(m, "Data race on %s", var);
	if (race->kind)
		fprintf(m, " (%s)", race->kind);
	fputs(": ", m);
	describe_access(m, &race->current);
	fputs("; previous ", m);
	describe_access(m, &race->previous);
	fputc('.', m);
	if (race->occurrences > 1)
		fprintf(m, " Seen %" PRIu64 " times.", race->occurrences);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *access_message(const struct report_access *a, const char *var, bool previous)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	const char *op = a->op && *a->op ? a->op : "access";
	if (previous)
		fprintf(m, "Previous %s", op);
	else
		fprintf(m, "%c%s", *op >= 'a' && *op <= 'z' ? *op - 'a' + 'A' : *op, op + 1);
	fprintf(m, " of %s by thread ", var);
	if (a->thread.name)
		fprintf(m, "\"%s\" ", a->thread.name);
	fprintf(m, "(tid %" PRIu32 "); locks held: ", a->thread.tid);
	if (a->nlocks == 0 || !a->locks_held)
		fputs("none", m);
	for (size_t i = 0; i < a->nlocks && a->locks_held; i++)
		fprintf(m, "%s%s", i ? ", " : "", a->locks_held[i] ? a->locks_held[i] : "?");
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void write_access_properties(struct json_writer *j, const struct report_access *a)
{
	jw_open(j, "properties", '{');
	jw_str(j, "op", a->op);
	jw_u64(j, "tid", a->thread.tid);
	jw_str(j, "thread", a->thread.name);
	jw_open(j, "locks_held", '[');
	for (size_t i = 0; i < a->nlocks && a->locks_held; i++)
		jw_str(j, NULL, a->locks_held[i]);
	jw_close(j, ']');
	if (a->stack.truncated)
		jw_bool(j, "stack_truncated", true);
	jw_close(j, '}');
}

/* One access as a thread flow: the call path from the outermost frame down to the access, the
 * way a viewer steps through it (outermost first, innermost last). */
static void write_thread_flow(struct json_writer *j, const char *id, const struct report_access *a,
			      const char *var, bool previous)
{
	const struct report_stack *st = &a->stack;
	size_t n = st->frames ? st->nframes : 0;
	char *msg = access_message(a, var, previous);

	jw_open(j, NULL, '{');
	jw_str(j, "id", id);
	write_text_message(j, "message", msg ? msg : var);
	jw_open(j, "locations", '[');
	for (size_t k = 0; k < n; k++) {
		const struct report_frame *f = &st->frames[n - 1 - k];
		jw_open(j, NULL, '{');
		jw_open(j, "location", '{');
		write_frame_location(j, f);
		if (k == n - 1)
			write_text_message(j, "message", msg ? msg : var);
		jw_close(j, '}');
		jw_int(j, "nestingLevel", (long long)k);
		jw_close(j, '}');
	}
	if (n == 0) { /* a thread flow needs one location at least */
		jw_open(j, NULL, '{');
		jw_open(j, "location", '{');
		write_text_message(j, "message", "no Python frames");
		jw_close(j, '}');
		jw_close(j, '}');
	}
	jw_close(j, ']');
	write_access_properties(j, a);
	jw_close(j, '}');
	free(msg);
}

/* The same stack as SARIF's stack object: innermost frame first. */
static void write_stack(struct json_writer *j, const struct report_access *a, const char *var,
			bool previous)
{
	const struct report_stack *st = &a->stack;
	char *msg = access_message(a, var, previous);

	jw_open(j, NULL, '{');
	write_text_message(j, "message", msg ? msg : var);
	jw_open(j, "frames", '[');
	for (size_t i = 0; i < st->nframes && st->frames; i++) {
		jw_open(j, NULL, '{');
		jw_open(j, "location", '{');
		write_frame_location(j, &st->frames[i]);
		jw_close(j, '}');
		jw_u64(j, "threadId", a->thread.tid);
		jw_close(j, '}');
	}
	jw_close(j, ']');
	jw_close(j, '}');
	free(msg);
}

static void write_result(struct json_writer *j, const struct report_race *race)
{
	char var[1024];
	const struct report_access *cur = &race->current, *prev = &race->previous;

	report_variable_name(&race->variable, var, sizeof var);
	char *msg = race_message(race, var);

	jw_open(j, NULL, '{');
	jw_str(j, "ruleId", RULE_ID);
	jw_int(j, "ruleIndex", 0);
	jw_str(j, "level", "error");
	write_text_message(j, "message", msg ? msg : var);
	if (cur->stack.nframes > 0 && cur->stack.frames) {
		jw_open(j, "locations", '[');
		jw_open(j, NULL, '{');
		write_frame_location(j, &cur->stack.frames[0]);
		jw_close(j, '}');
		jw_close(j, ']');
	}
	if (prev->stack.nframes > 0 && prev->stack.frames) {
		char *pm = access_message(prev, var, true);
		jw_open(j, "relatedLocations", '[');
		jw_open(j, NULL, '{');
		jw_int(j, "id", 1);
		write_frame_location(j, &prev->stack.frames[0]);
		write_text_message(j, "message", pm ? pm : var);
		jw_close(j, '}');
		jw_close(j, ']');
		free(pm);
	}
	jw_open(j, "partialFingerprints", '{');
	jw_member(j, FINGERPRINT);
	json_write_string_n(j->out, race->id, strnlen(race->id, sizeof race->id));
	jw_close(j, '}');
	jw_open(j, "codeFlows", '[');
	jw_open(j, NULL, '{');
	jw_open(j, "threadFlows", '[');
	write_thread_flow(j, "current", cur, var, false);
	write_thread_flow(j, "previous", prev, var, true);
	jw_close(j, ']');
	jw_close(j, '}');
	jw_close(j, ']');
	jw_open(j, "stacks", '[');
	write_stack(j, cur, var, false);
	write_stack(j, prev, var, true);
	jw_close(j, ']');
	if (race->occurrences >= 1)
		jw_u64(j, "occurrenceCount", race->occurrences);
	jw_open(j, "properties", '{');
	jw_member(j, "id");
	json_write_string_n(j->out, race->id, strnlen(race->id, sizeof race->id));
	jw_str(j, "kind", race->kind);
	jw_str(j, "variable", var);
	jw_str(j, "module", race->variable.module);
	jw_str(j, "name", race->variable.name);
	jw_str(j, "container", race->variable.container);
	if (race->variable.key)
		jw_str(j, "key", race->variable.key);
	jw_close(j, '}');
	jw_close(j, '}');
	free(msg);
}

/* An edge as an access: the acquisition of the new lock, with the held one among locks held. */
static struct report_access edge_access(const struct report_lock_edge *e)
{
	return (struct report_access){.op = "acquire",
				      .thread = e->thread,
				      .locks_held = &e->held,
				      .nlocks = 1,
				      .stack = e->acquired_stack};
}

static char *deadlock_message(const struct report_deadlock *d, const char *cycle)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return NULL;
	fprintf(m, "Lock-order inversion (potential deadlock): %s", cycle);
	for (size_t i = 0; i < d->nedges && d->edges; i++) {
		struct report_access a = edge_access(&d->edges[i]);
		fprintf(m, "; %s acquired while holding %s: ", d->edges[i].acquired,
			d->edges[i].held);
		describe_access(m, &a);
	}
	fputc('.', m);
	if (d->occurrences > 1)
		fprintf(m, " Seen %" PRIu64 " times.", d->occurrences);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void write_deadlock_result(struct json_writer *j, const struct report_deadlock *d)
{
	char cycle[2048], flow_id[32];
	size_t n = d->edges ? d->nedges : 0;

	report_deadlock_cycle(d, cycle, sizeof cycle);
	char *msg = deadlock_message(d, cycle);
	jw_open(j, NULL, '{');
	jw_str(j, "ruleId", DEADLOCK_RULE_ID);
	jw_int(j, "ruleIndex", 1);
	jw_str(j, "level", "error");
	write_text_message(j, "message", msg ? msg : cycle);
	if (n > 0 && d->edges[0].acquired_stack.nframes > 0 && d->edges[0].acquired_stack.frames) {
		jw_open(j, "locations", '[');
		jw_open(j, NULL, '{');
		write_frame_location(j, &d->edges[0].acquired_stack.frames[0]);
		jw_close(j, '}');
		jw_close(j, ']');
	}
	jw_open(j, "partialFingerprints", '{');
	jw_member(j, DEADLOCK_FINGERPRINT);
	json_write_string_n(j->out, d->id, strnlen(d->id, sizeof d->id));
	jw_close(j, '}');
	if (n > 0) {
		jw_open(j, "codeFlows", '[');
		jw_open(j, NULL, '{');
		jw_open(j, "threadFlows", '[');
		for (size_t i = 0; i < n; i++) {
			struct report_access a = edge_access(&d->edges[i]);
			snprintf(flow_id, sizeof flow_id, "edge-%zu", i + 1);
			write_thread_flow(j, flow_id, &a, d->edges[i].acquired, false);
		}
		jw_close(j, ']');
		jw_close(j, '}');
		jw_close(j, ']');
		jw_open(j, "stacks", '[');
		for (size_t i = 0; i < n; i++) {
			struct report_access a = edge_access(&d->edges[i]);
			write_stack(j, &a, d->edges[i].acquired, false);
		}
		jw_close(j, ']');
	}
	if (d->occurrences >= 1)
		jw_u64(j, "occurrenceCount", d->occurrences);
	jw_open(j, "properties", '{');
	jw_member(j, "id");
	json_write_string_n(j->out, d->id, strnlen(d->id, sizeof d->id));
	jw_str(j, "cycle", cycle);
	jw_open(j, "locks", '[');
	for (size_t i = 0; i < d->nlocks && d->locks; i++)
		jw_str(j, NULL, d->locks[i]);
	jw_close(j, ']');
	jw_close(j, '}');
	jw_close(j, '}');
	free(msg);
}

static void write_rule(struct json_writer *j, const char *id, const char *name, const char *brief,
		       const char *full)
{
	jw_open(j, NULL, '{');
	jw_str(j, "id", id);
	jw_str(j, "name", name);
	write_text_message(j, "shortDescription", brief);
	write_text_message(j, "fullDescription", full);
	jw_open(j, "defaultConfiguration", '{');
	jw_str(j, "level", "error");
	jw_close(j, '}');
	jw_close(j, '}');
}

static void write_driver(struct json_writer *j)
{
	jw_open(j, "tool", '{');
	jw_open(j, "driver", '{');
	jw_str(j, "name", "pyrace");
	jw_str(j, "version", PYRACE_VERSION);
	jw_str(j, "semanticVersion", PYRACE_VERSION);
	jw_open(j, "rules", '[');
	write_rule(j, RULE_ID, "DataRace", RULE_SHORT, RULE_FULL);
	write_rule(j, DEADLOCK_RULE_ID, "LockOrderInversion", DEADLOCK_SHORT, DEADLOCK_FULL);
	jw_close(j, ']');
	jw_close(j, '}');
	jw_close(j, '}');
}

/* Lost events or an early end make a clean result untrustworthy: say so where CI looks. */
static void write_invocation(struct json_writer *j, const struct report *r)
{
	const struct report_stats *st = &r->stats;

	jw_open(j, "invocations", '[');
	jw_open(j, NULL, '{');
	jw_bool(j, "executionSuccessful", true);
	if (st->lost_events > 0 || st->ended_early) {
		char text[256], lost[96] = "";
		if (st->lost_events > 0)
			snprintf(lost, sizeof lost,
				 "%" PRIu64 " events could not be delivered by the kernel%s",
				 st->lost_events, st->ended_early ? " and " : "");
		snprintf(text, sizeof text, "results are incomplete: %s%s; races may be missing",
			 lost, st->ended_early ? "the trace ended before the program did" : "");
		jw_open(j, "toolExecutionNotifications", '[');
		jw_open(j, NULL, '{');
		jw_str(j, "level", "warning");
		write_text_message(j, "message", text);
		jw_close(j, '}');
		jw_close(j, ']');
	}
	jw_close(j, '}');
	jw_close(j, ']');
}

static void write_run_properties(struct json_writer *j, const struct report *r)
{
	const struct report_stats *st = &r->stats;

	jw_open(j, "properties", '{');
	jw_int(j, "pid", r->target.pid);
	jw_str(j, "python_version", r->target.python_version);
	jw_str(j, "executable", r->target.executable);
	jw_u64(j, "events", st->events);
	jw_u64(j, "lost_events", st->lost_events);
	jw_u64(j, "threads", st->threads);
	jw_double(j, "duration_s", st->duration_s);
	jw_bool(j, "ended_early", st->ended_early != 0);
	jw_u64(j, "suppressed", r->suppressed);
	jw_u64(j, "baselined", r->baselined);
	jw_close(j, '}');
}

int report_write_sarif(const struct report *r, FILE *out)
{
	struct json_writer j = {.out = out};

	jw_open(&j, NULL, '{');
	jw_str(&j, "$schema", SARIF_SCHEMA);
	jw_str(&j, "version", "2.1.0");
	jw_open(&j, "runs", '[');
	jw_open(&j, NULL, '{');
	write_driver(&j);
	write_invocation(&j, r);
	jw_open(&j, "results", '[');
	for (size_t i = 0; i < r->nraces && r->races; i++)
		write_result(&j, &r->races[i]);
	for (size_t i = 0; i < r->ndeadlocks && r->deadlocks; i++)
		write_deadlock_result(&j, &r->deadlocks[i]);
	jw_close(&j, ']');
	write_run_properties(&j, r);
	jw_close(&j, '}');
	jw_close(&j, ']');
	jw_close(&j, '}');
	fputc('\n', out);
	if (fflush(out) != 0 || j.too_deep)
		return -1;
	return ferror(out) ? -1 : 0;
}
