/* A one-line live status on stderr while tracing, only when stderr is a terminal. */
#include "status_line.h"

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "record.h"

#define REFRESH_S 0.5

void status_line_init(struct status_line *s, uint64_t extra_dicts)
{
	*s = (struct status_line){.extra_dicts = extra_dicts};
	/* a log file or a pipe must get only the report, not carriage returns */
	s->enabled = isatty(STDERR_FILENO);
	s->last = record_now();
}

void status_line_tick(struct status_line *s, const struct consumer *c, struct probes *const *probes,
		      size_t nprobes)
{
	if (!s->enabled)
		return;
	double now = record_now();
	if (now - s->last < REFRESH_S)
		return;
	uint64_t lost = 0;
	for (size_t i = 0; i < nprobes; i++)
		lost += probes_lost_events(probes[i]);
	double rate = (double)(c->events - s->last_events) / (now - s->last);
	s->last = now;
	s->last_events = c->events;
	/* races are not counted live: that would mean running the analysis while tracing */
	fprintf(stderr,
		"\rpyrace: %.0f events/s, %" PRIu64 " threads, %" PRIu64 " watched dicts, %" PRIu64
		" lost events\033[K",
		rate, c->threads, c->watched_dicts + s->extra_dicts, lost);
	fflush(stderr);
	s->shown = 1;
}

void status_line_clear(struct status_line *s)
{
	if (!s->shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	s->shown = 0;
}
