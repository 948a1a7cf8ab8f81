/* Compact events of trace format 2: the writer's interning of threads, keys and stacks, and the
 * reader's tables that turn TREC_EV records back into events.
 *
 * TREC_EV payload, numbers LEB128:
 *   u8   type << 4 | op (both below 15), or 0xff followed by u8 type, u8 op
 *   ts   zigzag(ts_ns - ts_ns of the previous event of the trace)
 *   thread id (TREC_THREAD)
 *   obj  zigzag(obj - obj of the thread's previous event), untagged (the thread's process tags
 *        it)
 *   aux  0 when 0, else zigzag(aux - obj) + 1
 *   key  id + 1 (TREC_KEY), 0 none
 *   stack id (TREC_STACK), 0 no frames
 * Bytes after these are left for later writers. Addresses are user-space ones: 48 bits. */
#ifndef PYRACE_TRACE_CODEC_H
#define PYRACE_TRACE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "intern.h"
#include "trace_io.h"

/* One event as the analysis sees it, whichever format it came from. */
struct trace_event {
	uint64_t ts_ns;
	uint64_t obj, aux; /* tagged with the process number (trace_tag_addr) */
	uint64_t key_id;
	const char *key; /* key_len bytes of text, not NUL-terminated */
	uint32_t pid, tid;
	uint32_t stack; /* the reader's id of the stack (code_table), 0: no frames */
	/* the analysis' memo for the thread of this event (NULL: none), zero when the trace
	 * defines the thread anew: saves finding it by (process, tid) at every event */
	uint64_t *thread_memo;
	uint32_t prefetched; /* scratch of hb_prefetch between its stages */
	uint16_t process;
	uint16_t nframes;
	uint8_t type, op;
	uint8_t key_kind, key_len;
	uint8_t truncated;
};

/* ---- writing ---- */

struct trace_encoder {
	struct trace_writer *w;
	struct intern_index thread_ids, key_ids, stack_ids;
	struct encoder_thread *threads;
	struct encoder_key *keys;
	struct encoder_stack *stacks;
	struct pyrace_frame *frames; /* PYRACE_MAX_FRAMES per stack id */
	uint64_t last_ts;
	uint32_t code_generation; /* changes whenever a code object dies */
	/* counters, for the benchmarks */
	uint64_t events, definitions;
	int failed;
};

int trace_encoder_init(struct trace_encoder *enc, struct trace_writer *w);
void trace_encoder_free(struct trace_encoder *enc);

/* The stack reference of an event's frames (0: none): defines the stack first when the reader
 * does not know it. Sets *check when the stack is new, or code objects died since it was last
 * checked: the caller then writes what the reader must know of its code objects (TREC_CODE)
 * before the event. */
uint32_t trace_encode_stack(struct trace_encoder *enc, const struct pyrace_frame *frames, size_t n,
			    int truncated, int *check);
/* Writes `e` (obj, aux, process as in a trace: tagged) with that stack reference, defining its
 * thread and key first when needed. 0, or -1 when writing failed. */
int trace_encode_event(struct trace_encoder *enc, const struct pyrace_event *e, uint32_t stack);
/* A code object died: its address may hold another one, which stacks seen again must check. */
void trace_encoder_code_freed(struct trace_encoder *enc);

/* ---- reading ---- */

/* Gives the analysis' id of a stack being defined. */
typedef uint32_t (*trace_stack_fn)(void *ctx, const struct pyrace_frame *frames, size_t n,
				   int truncated);

struct trace_decoder {
	/* grown up to the highest id defined (at most the format's limits) */
	struct decoder_thread *threads;
	struct decoder_key *keys;
	struct decoder_stack *stacks;
	struct decoder_frames *stack_frames; /* as many as stacks */
	size_t threads_cap, keys_cap, stacks_cap;
	uint64_t last_ts;
	trace_stack_fn intern;
	void *ctx;
};

int trace_decoder_init(struct trace_decoder *d, trace_stack_fn intern, void *ctx);
void trace_decoder_free(struct trace_decoder *d);
/* TREC_THREAD, TREC_KEY or TREC_STACK: 0, or -1 when malformed (then ignored). */
int trace_decode_definition(struct trace_decoder *d, uint32_t type, const uint8_t *p, size_t len);
/* TREC_EV: 0 and the event (its key text points into the decoder until the key is defined
 * anew), or -1 when malformed or when it refers to an id not defined. */
int trace_decode_event(struct trace_decoder *d, const uint8_t *p, size_t len,
		       struct trace_event *out);

/* A format-1 event as a trace_event, given the analysis' id of its stack. */
void trace_event_from_v1(const struct pyrace_event *e, uint32_t stack, struct trace_event *out);

#endif
