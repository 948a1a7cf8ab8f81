/* Renders a report as ThreadSanitizer-style text for a terminal or a log. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "source_line.h"

#define SEPARATOR "=================="

struct style {
	const char *warning, *header, *dim, *reset;
};

static const struct style plain = {"", "", "", ""};
static const struct style ansi = {"\033[1;31m", "\033[1m", "\033[2m", "\033[0m"};

/* Thread names, paths and keys come from the traced program: control characters in them must
 * not reach a terminal, where they could move the cursor or fake colours. C1 controls are
 * matched in their UTF-8 form (U+0080..U+009F), which some terminals also obey. */
static void put_text(FILE *out, const char *s)
{
	if (!s) {
		fputc('?', out);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(out, "\\x%02x", *p);
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fprintf(out, "\\x%02x", p[1]);
			p++;
		} else {
			fputc(*p, out);
		}
	}
}

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* "Write of", "Previous write of": the op with its first letter raised or not. */
static void put_op(FILE *out, const char *op, bool capital)
{
	if (!op || !*op)
		op = "access";
	if (capital && *op >= 'a' && *op <= 'z') {
		fputc(*op - 'a' + 'A', out);
		op++;
	}
	put_text(out, op);
}

static void put_frame(FILE *out, const struct report_frame *f)
{
	put_text(out, f->function);
	fputc(' ', out);
	put_text(out, f->file);
	if (f->line < 0)
		fputs(":?", out);
	else
		fprintf(out, ":%d", f->line);
}

static void put_stack(FILE *out, const struct report_stack *st)
{
	for (size_t i = 0; i < st->nframes && st->frames; i++) {
		fprintf(out, "    #%zu ", i);
		put_frame(out, &st->frames[i]);
		fputc('\n', out);
	}
	if (st->truncated)
		fputs("    ...\n", out);
	else if (st->nframes == 0 || !st->frames)
		fputs("    <no Python frames>\n", out);
}

/* The source line of the innermost frame, under it. */
static void put_source(FILE *out, const struct style *c, const struct report_stack *st)
{
	char line[160];
	if (!st->frames || st->nframes == 0 ||
	    report_source_line(st->frames[0].file, st->frames[0].line, line, sizeof line))
		return;
	fprintf(out, "        %s> ", c->dim);
	put_text(out, line);
	fprintf(out, "%s\n", c->reset);
}

static void put_access(FILE *out, const struct style *c, const struct report_access *a,
		       const char *var, bool previous, bool source)
{
	fprintf(out, "  %s", c->header);
	if (previous)
		fputs("Previous ", out);
	put_op(out, a->op, !previous);
	fputs(" of ", out);
	put_text(out, var);
	if (a->thread.name) {
		fputs(" by thread \"", out);
		put_text(out, a->thread.name);
		fprintf(out, "\" (tid %" PRIu32 ")", a->thread.tid);
	} else {
		fprintf(out, " by thread (tid %" PRIu32 ")", a->thread.tid);
	}
	if (a->thread.process) {
		fprintf(out, " of process %" PRIu32 " (", a->thread.pid);
		put_text(out, a->thread.process);
		fputc(')', out);
	}
	fprintf(out, ":%s\n", c->reset);

	if (source && a->stack.frames && a->stack.nframes > 0) {
		fputs("    #0 ", out);
		put_frame(out, &a->stack.frames[0]);
		fputc('\n', out);
		put_source(out, c, &a->stack);
		struct report_stack rest = {a->stack.frames + 1, a->stack.nframes - 1,
					    a->stack.truncated};
		for (size_t i = 0; i < rest.nframes; i++) {
			fprintf(out, "    #%zu ", i + 1);
			put_frame(out, &rest.frames[i]);
			fputc('\n', out);
		}
		if (rest.truncated)
			fputs("    ...\n", out);
	} else {
		put_stack(out, &a->stack);
	}

	fprintf(out, "  %sLocks held: ", c->dim);
	if (a->nlocks == 0 || !a->locks_held)
		fputs("none", out);
	for (size_t i = 0; i < a->nlocks && a->locks_held; i++) {
		if (i > 0)
			fputs(", ", out);
		put_text(out, a->locks_held[i]);
	}
	fprintf(out, "%s\n", c->reset);
	if (a->test) {
		fputs("  During test ", out);
		put_text(out, a->test);
		fputc('\n', out);
	}
}

/* Where a thread of the race was started, as ThreadSanitizer says it. */
static void put_creation(FILE *out, const struct style *c, const struct report_thread *t)
{
	if (!t->created_at)
		return;
	fprintf(out, "  %sThread \"", c->dim);
	put_text(out, t->name ? t->name : "?");
	fprintf(out, "\" (tid %" PRIu32 ") created by thread \"", t->tid);
	put_text(out, t->created_by ? t->created_by : "?");
	fprintf(out, "\" at:%s\n", c->reset);
	put_stack(out, t->created_at);
	fputc('\n', out);
}

/* Where the locks held at either access were made, each once. */
static void put_lock_creation(FILE *out, const struct style *c, const struct report_race *race)
{
	const struct report_access *sides[] = {&race->current, &race->previous};
	for (size_t s = 0; s < 2; s++) {
		const struct report_access *a = sides[s];
		for (size_t i = 0; a->locks_created && a->locks_held && i < a->nlocks; i++) {
			if (!a->locks_created[i])
				continue;
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				seen = a->locks_created[j] &&
				       strcmp(a->locks_held[j], a->locks_held[i]) == 0;
			for (size_t j = 0; s == 1 && !seen && race->current.locks_created &&
					   j < race->current.nlocks;
			     j++)
				seen = race->current.locks_created[j] &&
				       strcmp(race->current.locks_held[j], a->locks_held[i]) == 0;
			if (seen)
				continue;
			fprintf(out, "  %sLock ", c->dim);
			put_text(out, a->locks_held[i]);
			fprintf(out, " created at:%s\n", c->reset);
			put_stack(out, a->locks_created[i]);
			fputc('\n', out);
		}
	}
}

static void put_race(FILE *out, const struct style *c, const struct report_race *race, bool source)
{
	char var[1024];

	report_variable_name(&race->variable, var, sizeof var);
	fprintf(out, "%s\n%sWARNING: pyrace: data race on ", SEPARATOR, c->warning);
	put_text(out, var);
	if (race->kind) {
		fputs(" (", out);
		put_text(out, race->kind);
		fputc(')', out);
	}
	if (race->predicted)
		fputs(" [predicted: ordered in this run by a lock whose critical sections share no "
		      "variable; another schedule unorders it]",
		      out);
	fprintf(out, "%s\n", c->reset);
	put_access(out, c, &race->current, var, false, source);
	fputc('\n', out);
	put_access(out, c, &race->previous, var, true, source);
	fputc('\n', out);
	put_creation(out, c, &race->current.thread);
	if (race->previous.thread.tid != race->current.thread.tid ||
	    race->previous.thread.pid != race->current.thread.pid)
		put_creation(out, c, &race->previous.thread);
	put_lock_creation(out, c, race);
	if (race->occurrences > 1)
		fprintf(out, "  Seen %" PRIu64 " times.\n", race->occurrences);
	fprintf(out, "  Race id: %.16s\n%s\n", race->id, SEPARATOR);
}

static void put_thread(FILE *out, const struct report_thread *t)
{
	if (t->name) {
		fputs("thread \"", out);
		put_text(out, t->name);
		fprintf(out, "\" (tid %" PRIu32 ")", t->tid);
	} else {
		fprintf(out, "thread (tid %" PRIu32 ")", t->tid);
	}
}

/* Like ThreadSanitizer's: the cycle, then per edge where the new lock was taken and where the
 * held one had been. */
static void put_deadlock(FILE *out, const struct style *c, const struct report_deadlock *d)
{
	char cycle[2048];

	report_deadlock_cycle(d, cycle, sizeof cycle);
	fprintf(out, "%s\n%sWARNING: pyrace: lock-order inversion (potential deadlock)%s\n",
		SEPARATOR, c->warning, c->reset);
	fputs("  Cycle in lock order graph: ", out);
	put_text(out, cycle);
	fputs("\n\n", out);
	for (size_t i = 0; i < d->nedges && d->edges; i++) {
		const struct report_lock_edge *e = &d->edges[i];
		fprintf(out, "  %sMutex ", c->header);
		put_text(out, e->acquired);
		fputs(" acquired here while holding mutex ", out);
		put_text(out, e->held);
		fputs(" in ", out);
		put_thread(out, &e->thread);
		fprintf(out, ":%s\n", c->reset);
		put_stack(out, &e->acquired_stack);
		fprintf(out, "\n  %sMutex ", c->header);
		put_text(out, e->held);
		fprintf(out, " previously acquired by the same thread here:%s\n", c->reset);
		put_stack(out, &e->held_stack);
		fputc('\n', out);
	}
	if (d->occurrences > 1)
		fprintf(out, "  Seen %" PRIu64 " times.\n", d->occurrences);
	fprintf(out, "  Deadlock id: %.16s\n%s\n", d->id, SEPARATOR);
}

static void put_location(FILE *out, const struct report_stack *st)
{
	if (st->nframes == 0 || !st->frames) {
		fputs(" (no Python frames)\n", out);
		return;
	}
	const struct report_frame *f = &st->frames[0];
	fputs(" at ", out);
	put_text(out, f->file);
	if (f->line < 0)
		fputs(":?", out);
	else
		fprintf(out, ":%d", f->line);
	fputs(" in ", out);
	put_text(out, f->function);
	fputc('\n', out);
}

static void put_deadlock_summary(FILE *out, const struct report_deadlock *d)
{
	char cycle[2048];

	report_deadlock_cycle(d, cycle, sizeof cycle);
	fputs("SUMMARY: pyrace: lock-order inversion (potential deadlock) ", out);
	put_text(out, cycle);
	if (d->nedges == 0 || !d->edges)
		fputc('\n', out);
	else
		put_location(out, &d->edges[0].acquired_stack);
}

static void put_summary(FILE *out, const struct report_race *race)
{
	char var[1024];
	const struct report_stack *st = &race->current.stack;

	report_variable_name(&race->variable, var, sizeof var);
	fputs("SUMMARY: pyrace: data race on ", out);
	put_text(out, var);
	put_location(out, st);
}

/* Lost events and an early end are never hidden: a clean result from a partial trace would be a
 * false all-clear. */
static void put_counts(FILE *out, const struct style *c, const struct report *r)
{
	const struct report_stats *st = &r->stats;
	const char *counts_fmt = "%" PRIu64 " %s, %" PRIu64 " %s, %" PRIu64 " %s";

	if (r->nraces == 0) {
		fputs("pyrace: no races found (", out);
	} else {
		fprintf(out, "pyrace: %zu %s in ", r->nraces, r->nraces == 1 ? "race" : "races");
	}
	fprintf(out, counts_fmt, st->threads, plural(st->threads, "thread", "threads"), st->events,
		plural(st->events, "event", "events"), st->lost_events,
		plural(st->lost_events, "lost event", "lost events"));
	if (r->nprocesses)
		fprintf(out, ", %zu %s", r->nprocesses,
			plural(r->nprocesses, "process", "processes"));
	if (r->nraces == 0)
		fputc(')', out);
	if (r->ndeadlocks > 0)
		fprintf(out, "; %zu %s", r->ndeadlocks,
			plural(r->ndeadlocks, "potential deadlock", "potential deadlocks"));
	if (st->untraced_processes > 0)
		fprintf(out, "; %" PRIu64 " %s not traced (not CPython 3.11)",
			st->untraced_processes,
			plural(st->untraced_processes, "process", "processes"));
	if (r->suppressed > 0)
		fprintf(out, "; %" PRIu64 " %s suppressed", r->suppressed,
			plural(r->suppressed, "race", "races"));
	if (r->suppressed_deadlocks > 0)
		fprintf(out, "; %" PRIu64 " %s suppressed", r->suppressed_deadlocks,
			plural(r->suppressed_deadlocks, "deadlock", "deadlocks"));
	if (r->baselined > 0)
		fprintf(out, "; %" PRIu64 " %s in the baseline", r->baselined,
			plural(r->baselined, "race", "races"));
	fputc('\n', out);
	if (st->no_reads)
		fputs("pyrace: reads were not recorded (--no-reads): only write-write races can be "
		      "reported\n",
		      out);

	if (st->lost_events == 0 && !st->ended_early)
		return;
	fprintf(out, "%spyrace: results are incomplete: ", c->warning);
	if (st->lost_events > 0)
		fprintf(out, "%" PRIu64 " %s could not be delivered by the kernel", st->lost_events,
			plural(st->lost_events, "event", "events"));
	if (st->lost_events > 0 && st->ended_early)
		fputs(" and ", out);
	if (st->ended_early)
		fputs("the trace ended before the program did", out);
	/* a lost release or start event removes an ordering: say so, or the user trusts a report
	 * that the missing events might have ruled out */
	fprintf(out, "; races may be missing%s%s\n",
		st->lost_events > 0 ? ", and some reported pairs may have been ordered by lost "
				      "synchronisation events (try PYRACE_RING_SIZE)"
				    : "",
		c->reset);
}

static void put_rule(FILE *out, const struct report_suppression *s)
{
	put_text(out, s->type);
	fputc(':', out);
	put_text(out, s->pattern);
	fputs(" (", out);
	put_text(out, s->file);
	fprintf(out, ":%d)\n", s->line);
}

/* Like ThreadSanitizer: how often each suppression matched, then those that never did (stale
 * rules hide nothing and deserve deleting). */
static void put_suppressions(FILE *out, const struct report *r)
{
	size_t used = 0;

	for (size_t i = 0; i < r->nsuppressions && r->suppressions; i++)
		used += r->suppressions[i].hits > 0;
	if (used > 0) {
		fputs("pyrace: matched suppressions:\n", out);
		for (size_t i = 0; i < r->nsuppressions && r->suppressions; i++) {
			const struct report_suppression *s = &r->suppressions[i];
			if (s->hits == 0)
				continue;
			fprintf(out, "%7" PRIu64 " ", s->hits);
			put_rule(out, s);
		}
	}
	if (used < r->nsuppressions && r->suppressions) {
		fputs("pyrace: unused suppressions:\n", out);
		for (size_t i = 0; i < r->nsuppressions; i++) {
			if (r->suppressions[i].hits > 0)
				continue;
			fputs("        ", out);
			put_rule(out, &r->suppressions[i]);
		}
	}
}

void report_write_text(const struct report *r, FILE *out, int color)
{
	const struct style *c = color ? &ansi : &plain;

	for (size_t i = 0; i < r->nraces && r->races; i++)
		put_race(out, c, &r->races[i], r->source_lines != 0);
	for (size_t i = 0; i < r->ndeadlocks && r->deadlocks; i++)
		put_deadlock(out, c, &r->deadlocks[i]);
	for (size_t i = 0; i < r->nraces && r->races; i++)
		put_summary(out, &r->races[i]);
	for (size_t i = 0; i < r->ndeadlocks && r->deadlocks; i++)
		put_deadlock_summary(out, &r->deadlocks[i]);
	put_counts(out, c, r);
	put_suppressions(out, r);
}

void report_write_race_text(const struct report_race *race, FILE *out)
{
	put_race(out, &plain, race, false);
}

void report_write_deadlock_text(const struct report_deadlock *deadlock, FILE *out)
{
	put_deadlock(out, &plain, deadlock);
}
