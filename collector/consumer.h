/* Draining the ring buffer into the trace, resolving each code object the first time it is seen. */
#ifndef PYRACE_CONSUMER_H
#define PYRACE_CONSUMER_H

#include <stdint.h>
#include <sys/types.h>

#include "interp.h"
#include "trace_format.h"
#include "trace_io.h"
#include "u64map.h"

struct consumer {
	long delay_ms; /* PYRACE_CONSUMER_DELAY_MS: a slow reader, to test overflow */
	struct ring_buffer *rb;
	struct trace_writer *writer;
	pid_t pid;
	const struct interp_info *interp;
	uint64_t code_type; /* run-time address of PyCode_Type, 0 until the core is mapped */
	struct u64map code_seen;
	struct trace_buf buf;
	uint64_t events;
	struct u64map tids_seen;
	uint64_t threads;	/* threads seen in events so far */
	uint64_t watched_dicts; /* global dicts seen becoming watched */
	uint64_t unresolved_code;
	int write_failed;
};

int consumer_init(struct consumer *c, int ring_fd, struct trace_writer *w, pid_t pid,
		  const struct interp_info *interp);
/* Waits up to `timeout_ms` for events and writes them; returns events handled or -1. */
int consumer_poll(struct consumer *c, int timeout_ms);
/* Writes whatever the ring buffer still holds. */
int consumer_drain(struct consumer *c);
void consumer_free(struct consumer *c);

#endif
