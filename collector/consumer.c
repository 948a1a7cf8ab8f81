/* Draining the ring buffers into the trace, resolving each code object the first time it is seen.
 */
#include "consumer.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "code_object.h"
#include "events.h"
#include "live_walk.h"

enum { CODE_RESOLVED = 1, CODE_UNREADABLE = 2 };

/* Writes a TREC_CODE record for `code` (tagged) unless one was written already. Code objects
 * are read now, while the target is alive, so that the trace can be analysed anywhere later. */
static void resolve_code(struct consumer *c, struct consumer_process *p, uint64_t code)
{
	int created;
	uint64_t *state = u64map_put(&c->code_seen, code, 0, &created);
	if (!state || !created)
		return;
	struct code_info info;
	uint64_t bias;
	if (!p->code_type && live_core_bias(p->pid, p->interp, &bias) == 0)
		p->code_type = p->interp->code.code_type_addr + bias;
	if (!p->code_type || code_object_read(p->pid, &p->interp->code, code & TRACE_ADDR_MASK,
					      p->code_type, &info)) {
		*state = CODE_UNREADABLE;
		c->unresolved_code++;
		return;
	}
	*state = CODE_RESOLVED;
	trace_buf_reset(&c->buf);
	trace_put_u64(&c->buf, code);
	trace_put_u32(&c->buf, (uint32_t)info.first_line);
	trace_put_str(&c->buf, info.filename);
	trace_put_str(&c->buf, info.qualname);
	trace_put_bytes(&c->buf, info.linetable, info.linetable_len);
	free(info.linetable);
	if (c->buf.error ||
	    trace_writer_record(c->writer, TREC_CODE, c->buf.data, (uint32_t)c->buf.len))
		c->write_failed = 1;
}

static uint64_t tag(uint16_t number, uint64_t addr)
{
	return addr ? trace_tag_addr(number, addr) : 0;
}

static int handle_event(void *ctx, void *data, size_t size)
{
	struct consumer *c = ctx;
	struct pyrace_event e;
	if (size < PYRACE_EVENT_HEADER_SIZE)
		return 0;
	if (size > sizeof(e))
		size = sizeof(e);
	memcpy(&e, data, size);
	uint64_t *number = u64map_get(&c->current, e.pid, 0);
	if (!number)
		return 0; /* a process no longer traced */
	struct consumer_process *p = &c->procs[*number - 1];
	e.process = (uint16_t)*number;
	e.obj = tag(e.process, e.obj);
	e.aux = tag(e.process, e.aux);
	if (e.type == PYEV_CODE_FREED) {
		u64map_remove(&c->code_seen, e.obj, 0);
		trace_encoder_code_freed(&c->enc);
		return 0;
	}
	/* (the stop it announces is seen through waitpid; the event itself goes into the trace:
	 * what the finalizing thread does from then on is the interpreter's teardown) */
	/* the live status line's counts: a map insert per event, so only when it is shown */
	int created = 0;
	if (c->live_counts && e.tid &&
	    u64map_put(&c->tids_seen, ((uint64_t)e.process << 32) | e.tid, 0, &created) && created)
		c->threads++;
	if (e.type == PYEV_WATCH && e.op == PYWATCH_GLOBAL_DICT)
		c->watched_dicts++;
	size_t nframes = e.nframes;
	if (PYRACE_EVENT_HEADER_SIZE + nframes * sizeof(struct pyrace_frame) > size)
		nframes = (size - PYRACE_EVENT_HEADER_SIZE) / sizeof(struct pyrace_frame);
	for (size_t i = 0; i < nframes; i++)
		e.frames[i].code = tag(e.process, e.frames[i].code);
	/* the trace holds each stack once: its code objects are resolved when it is new (or
	 * code objects died since), not at every event */
	int check;
	uint32_t stack = trace_encode_stack(&c->enc, e.frames, nframes, e.truncated, &check);
	for (size_t i = 0; check && i < nframes; i++)
		resolve_code(c, p, e.frames[i].code);
	if (trace_encode_event(&c->enc, &e, stack))
		c->write_failed = 1;
	c->events++;
	return 0;
}

int consumer_write_event(struct consumer *c, const struct pyrace_event *e)
{
	if (trace_encode_event(&c->enc, e, 0))
		c->write_failed = 1;
	return c->write_failed ? -1 : 0;
}

int consumer_init(struct consumer *c, int ring_fd, struct trace_writer *w)
{
	memset(c, 0, sizeof(*c));
	c->writer = w;
	u64map_init(&c->code_seen);
	u64map_init(&c->tids_seen);
	u64map_init(&c->current);
	/* fault injection for the tests: a reader too slow for its ring buffer */
	const char *delay = getenv("PYRACE_CONSUMER_DELAY_MS");
	c->delay_ms = delay ? strtol(delay, NULL, 10) : 0;
	if (c->delay_ms < 0 || c->delay_ms > 10000)
		c->delay_ms = 0;
	if (trace_encoder_init(&c->enc, w))
		return -1;
	c->rb = ring_buffer__new(ring_fd, handle_event, c, NULL);
	if (!c->rb)
		trace_encoder_free(&c->enc);
	return c->rb ? 0 : -1;
}

int consumer_add_ring(struct consumer *c, int ring_fd)
{
	return ring_buffer__add(c->rb, ring_fd, handle_event, c);
}

int consumer_add_ring_fn(struct consumer *c, int ring_fd, int (*fn)(void *, void *, size_t),
			 void *ctx)
{
	return ring_buffer__add(c->rb, ring_fd, fn, ctx);
}

uint16_t consumer_add_process(struct consumer *c, pid_t pid, const struct interp_info *interp)
{
	if (c->nprocs >= TRACE_MAX_PROCESSES)
		return 0;
	if (c->nprocs == c->procs_cap) {
		size_t cap = c->procs_cap ? c->procs_cap * 2 : 8;
		struct consumer_process *grown = realloc(c->procs, cap * sizeof(*grown));
		if (!grown)
			return 0;
		c->procs = grown;
		c->procs_cap = cap;
	}
	uint64_t *slot = u64map_put(&c->current, (uint64_t)pid, 0, NULL);
	if (!slot)
		return 0;
	c->procs[c->nprocs] = (struct consumer_process){.pid = pid, .interp = interp};
	*slot = ++c->nprocs;
	return (uint16_t)c->nprocs;
}

void consumer_end_process(struct consumer *c, pid_t pid)
{
	u64map_remove(&c->current, (uint64_t)pid, 0);
}

int consumer_poll(struct consumer *c, int timeout_ms)
{
	if (c->delay_ms) {
		struct timespec ts = {c->delay_ms / 1000, (c->delay_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	/* producers skip wake-ups for small amounts of data, so read what is there either way */
	int n = ring_buffer__poll(c->rb, timeout_ms);
	int more = ring_buffer__consume(c->rb);
	if (n >= 0 && more > 0)
		n += more;
	trace_writer_flush(c->writer);
	return n;
}

int consumer_drain(struct consumer *c)
{
	int n = ring_buffer__consume(c->rb);
	trace_writer_flush(c->writer);
	return n;
}

void consumer_free(struct consumer *c)
{
	ring_buffer__free(c->rb);
	u64map_free(&c->code_seen);
	u64map_free(&c->tids_seen);
	u64map_free(&c->current);
	trace_buf_free(&c->buf);
	trace_encoder_free(&c->enc);
	free(c->procs);
}
