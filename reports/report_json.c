/* Writes a report as the pyrace-report/1 JSON document of shared/spec/report.md. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "json_write.h"
#include "report.h"

static void write_stack(struct json_writer *j, const char *key, const struct report_stack *st)
{
	jw_open(j, key, '[');
	for (size_t i = 0; i < st->nframes && st->frames; i++) {
		const struct report_frame *f = &st->frames[i];

		jw_open(j, NULL, '{');
		jw_str(j, "file", f->file);
		jw_str(j, "function", f->function);
		/* -1 (unknown) stays a number so that consumers can rely on the type */
		jw_int(j, "line", f->line);
		jw_close(j, '}');
	}
	jw_close(j, ']');
}

static void write_access(struct json_writer *j, const char *key, const struct report_access *a)
{
	jw_open(j, key, '{');
	jw_str(j, "op", a->op);
	jw_open(j, "thread", '{');
	jw_u64(j, "tid", a->thread.tid);
	jw_str(j, "name", a->thread.name);
	if (a->thread.pid)
		jw_u64(j, "pid", a->thread.pid);
	if (a->thread.created_at) {
		jw_str(j, "created_by", a->thread.created_by);
		write_stack(j, "created_at", a->thread.created_at);
	}
	jw_close(j, '}');
	jw_open(j, "locks_held", '[');
	for (size_t i = 0; i < a->nlocks && a->locks_held; i++)
		jw_str(j, NULL, a->locks_held[i]);
	jw_close(j, ']');
	write_stack(j, "stack", &a->stack);
	if (a->stack.truncated)
		jw_bool(j, "stack_truncated", true);
	if (a->test)
		jw_str(j, "test", a->test);
	jw_close(j, '}');
}

static void write_race(struct json_writer *j, const struct report_race *race)
{
	jw_open(j, NULL, '{');
	jw_member(j, "id");
	json_write_string_n(j->out, race->id, strnlen(race->id, sizeof race->id));
	jw_str(j, "kind", race->kind);
	jw_open(j, "variable", '{');
	jw_str(j, "module", race->variable.module);
	jw_str(j, "name", race->variable.name);
	jw_str(j, "container", race->variable.container);
	if (race->variable.key)
		jw_str(j, "key", race->variable.key);
	if (race->variable.key_type)
		jw_str(j, "key_type", race->variable.key_type);
	jw_close(j, '}');
	write_access(j, "current", &race->current);
	write_access(j, "previous", &race->previous);
	jw_u64(j, "occurrences", race->occurrences);
	if (race->predicted)
		jw_bool(j, "predicted", true);
	jw_close(j, '}');
}

static void write_deadlock(struct json_writer *j, const struct report_deadlock *d)
{
	jw_open(j, NULL, '{');
	jw_member(j, "id");
	json_write_string_n(j->out, d->id, strnlen(d->id, sizeof d->id));
	jw_open(j, "locks", '[');
	for (size_t i = 0; i < d->nlocks && d->locks; i++)
		jw_str(j, NULL, d->locks[i]);
	jw_close(j, ']');
	jw_open(j, "edges", '[');
	for (size_t i = 0; i < d->nedges && d->edges; i++) {
		const struct report_lock_edge *e = &d->edges[i];
		jw_open(j, NULL, '{');
		jw_str(j, "held", e->held);
		jw_str(j, "acquired", e->acquired);
		jw_open(j, "thread", '{');
		jw_u64(j, "tid", e->thread.tid);
		jw_str(j, "name", e->thread.name);
		jw_close(j, '}');
		write_stack(j, "held_stack", &e->held_stack);
		if (e->held_stack.truncated)
			jw_bool(j, "held_stack_truncated", true);
		write_stack(j, "acquired_stack", &e->acquired_stack);
		if (e->acquired_stack.truncated)
			jw_bool(j, "acquired_stack_truncated", true);
		jw_close(j, '}');
	}
	jw_close(j, ']');
	jw_u64(j, "occurrences", d->occurrences);
	jw_close(j, '}');
}

int report_write_json(const struct report *r, FILE *out)
{
	struct json_writer j = {.out = out};
	const struct report_target *t = &r->target;
	const struct report_stats *st = &r->stats;

	jw_open(&j, NULL, '{');
	jw_str(&j, "schema", "pyrace-report/1");
	jw_open(&j, "tool", '{');
	jw_str(&j, "name", "pyrace");
	jw_str(&j, "version", PYRACE_VERSION);
	jw_close(&j, '}');

	jw_open(&j, "target", '{');
	jw_int(&j, "pid", t->pid);
	jw_open(&j, "argv", '[');
	for (size_t i = 0; i < t->argc && t->argv; i++)
		jw_str(&j, NULL, t->argv[i]);
	jw_close(&j, ']');
	jw_open(&j, "python", '{');
	jw_str(&j, "version", t->python_version);
	jw_str(&j, "executable", t->executable);
	jw_str(&j, "build", t->build);
	jw_close(&j, '}');
	jw_close(&j, '}');

	if (r->nprocesses) {
		jw_open(&j, "processes", '[');
		for (size_t i = 0; i < r->nprocesses; i++) {
			const struct report_process *p = &r->processes[i];
			jw_open(&j, NULL, '{');
			jw_int(&j, "pid", p->pid);
			jw_int(&j, "ppid", p->ppid);
			jw_open(&j, "argv", '[');
			for (size_t k = 0; k < p->argc && p->argv; k++)
				jw_str(&j, NULL, p->argv[k]);
			jw_close(&j, ']');
			jw_str(&j, "executable", p->executable);
			jw_close(&j, '}');
		}
		jw_close(&j, ']');
	}

	jw_open(&j, "stats", '{');
	jw_u64(&j, "events", st->events);
	jw_u64(&j, "lost_events", st->lost_events);
	jw_u64(&j, "threads", st->threads);
	jw_double(&j, "duration_s", st->duration_s);
	jw_u64(&j, "watched_dicts", st->watched_dicts);
	jw_u64(&j, "truncated_stacks", st->truncated_stacks);
	jw_u64(&j, "unresolved_frames", st->unresolved_frames);
	jw_bool(&j, "ended_early", st->ended_early != 0);
	jw_bool(&j, "reads_recorded", st->no_reads == 0);
	if (r->nprocesses)
		jw_u64(&j, "untraced_processes", st->untraced_processes);
	jw_close(&j, '}');

	jw_open(&j, "races", '[');
	for (size_t i = 0; i < r->nraces && r->races; i++)
		write_race(&j, &r->races[i]);
	jw_close(&j, ']');
	jw_open(&j, "deadlocks", '[');
	for (size_t i = 0; i < r->ndeadlocks && r->deadlocks; i++)
		write_deadlock(&j, &r->deadlocks[i]);
	jw_close(&j, ']');
	jw_u64(&j, "suppressed", r->suppressed);
	if (r->suppressed_deadlocks)
		jw_u64(&j, "suppressed_deadlocks", r->suppressed_deadlocks);
	jw_u64(&j, "baselined", r->baselined);
	jw_close(&j, '}');
	fputc('\n', out);

	/* errors of buffered writes show only once the buffer is flushed */
	if (fflush(out) != 0 || j.too_deep)
		return -1;
	return ferror(out) ? -1 : 0;
}
