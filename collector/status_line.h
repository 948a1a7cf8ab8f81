/* A one-line live status on stderr while tracing, only when stderr is a terminal. */
#ifndef PYRACE_STATUS_LINE_H
#define PYRACE_STATUS_LINE_H

#include <stdint.h>

#include "consumer.h"
#include "probes.h"

struct status_line {
	int enabled; /* stderr is a terminal */
	int shown;   /* something is on the line now */
	double last; /* when it was last drawn */
	uint64_t last_events;
	uint64_t extra_dicts; /* watched before the consumer started (attach) */
};

void status_line_init(struct status_line *s, uint64_t extra_dicts);
/* Redraws the line when half a second has passed since the last time. */
void status_line_tick(struct status_line *s, const struct consumer *c, struct probes *const *probes,
		      size_t nprobes);
/* Erases the line, so that what is printed next starts on a clean one. */
void status_line_clear(struct status_line *s);

#endif
