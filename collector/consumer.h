/* Draining the ring buffers into the trace, resolving each code object the first time it is seen.
 * Each traced address space gets a number, carried in the top bits of every address of its
 * events, so that processes that share addresses (a fork) share nothing in the analysis. */
#ifndef PYRACE_CONSUMER_H
#define PYRACE_CONSUMER_H

#include <stdint.h>
#include <sys/types.h>

#include "interp.h"
#include "trace_codec.h"
#include "trace_format.h"
#include "trace_io.h"
#include "u64map.h"

struct ring_buffer;

struct consumer_process {
	pid_t pid;
	const struct interp_info *interp;
	uint64_t code_type; /* run-time address of PyCode_Type, 0 until the core is mapped */
};

struct consumer {
	long delay_ms; /* PYRACE_CONSUMER_DELAY_MS: a slow reader, to test overflow */
	struct ring_buffer *rb;
	struct trace_writer *writer;
	struct consumer_process *procs; /* by number - 1 */
	size_t nprocs, procs_cap;
	struct u64map current; /* tgid -> number of its address space now */
	struct u64map code_seen;
	struct trace_buf buf;
	struct trace_encoder enc; /* events into compact records */
	uint64_t events;
	int live_counts; /* count threads for the live status line (stderr is a terminal) */
	struct u64map tids_seen;
	uint64_t threads;	/* threads seen in events so far */
	uint64_t watched_dicts; /* global dicts seen becoming watched */
	uint64_t unresolved_code;
	int write_failed;
};

int consumer_init(struct consumer *c, int ring_fd, struct trace_writer *w);
/* Another ring of events (of another interpreter's programs). 0 on success. */
int consumer_add_ring(struct consumer *c, int ring_fd);
/* Another ring whose records go to `fn` rather than into the trace (process life events). */
int consumer_add_ring_fn(struct consumer *c, int ring_fd, int (*fn)(void *, void *, size_t),
			 void *ctx);
/* Events of `pid` belong to a new address space from now on (it was attached, forked, or it
 * executed a new program). Returns its number, 0 when there is no room for another. */
uint16_t consumer_add_process(struct consumer *c, pid_t pid, const struct interp_info *interp);
/* Events of `pid` are dropped from now on. */
void consumer_end_process(struct consumer *c, pid_t pid);
/* Waits up to `timeout_ms` for events and writes them; returns events handled or -1. */
int consumer_poll(struct consumer *c, int timeout_ms);
/* Writes an event of no frames that did not come from a ring (obj and aux tagged, process set):
 * what attaching found already there. 0, or -1 when writing failed. */
int consumer_write_event(struct consumer *c, const struct pyrace_event *e);
/* Writes whatever the ring buffers still hold. */
int consumer_drain(struct consumer *c);
void consumer_free(struct consumer *c);

#endif
