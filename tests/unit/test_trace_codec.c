/* Compact events (trace format 2): what the encoder writes, the decoder gives back, also once
 * the writer's bounded tables have run out of ids and reuse them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace_codec.h"
#include "trace_format.h"
#include "trace_io.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* More distinct threads, keys and stacks than the format keeps ids for. */
#define NTHREADS (TRACE_THREAD_IDS + 900)
#define NKEYS	 (TRACE_KEY_IDS + 5000)
#define NSTACKS	 (TRACE_STACK_IDS + 3000)
#define NEVENTS	 400000

/* Event i of the test: thread, key and stack drawn from a pool, often from the recent ones. */
static void make_event(uint64_t i, struct pyrace_event *e)
{
	memset(e, 0, sizeof(*e));
	uint64_t r = next_random();
	/* half of the draws from a small hot set, as in a real run; the rest anywhere */
	uint32_t thread = (uint32_t)((r & 1) ? (r >> 8) % 16 : (r >> 8) % NTHREADS);
	uint32_t key = (uint32_t)((r & 2) ? (r >> 20) % 64 : (r >> 20) % NKEYS);
	uint32_t stack = (uint32_t)((r & 4) ? (r >> 40) % 32 : (r >> 40) % NSTACKS);
	e->ts_ns = 1000000 + i * 100 - (r & 8 ? 60 : 0); /* sometimes a little back in time */
	e->process = (uint16_t)(1 + thread % 3);
	e->pid = 100 + e->process;
	e->tid = 1000 + thread;
	e->type = (uint8_t)(r & 16 ? PYEV_ACCESS : PYEV_SYNC);
	e->op = (uint8_t)(1 + (r >> 5) % 13);
	if ((r & 0xff00) == 0x4200) { /* beyond the one-byte form */
		e->type = 20;
		e->op = 31;
	}
	uint64_t obj = (0x7f0000000000ull + ((r >> 12) % 4096) * 64) & TRACE_ADDR_MASK;
	e->obj = trace_tag_addr(e->process, obj);
	if (r & 32)
		e->aux = trace_tag_addr(
		    e->process, (r >> 16) & TRACE_ADDR_MASK ? (r >> 16) & TRACE_ADDR_MASK : 1);
	if (key % 5) {
		e->key_kind = (uint8_t)(key % 4);
		e->key_id = key * 0x9e3779b97f4a7c15ull;
		int n = snprintf(e->key, sizeof(e->key), "key-%u-%s", key,
				 key % 7 ? "" : "a long key text that the kernel cut to 40 bytes");
		e->key_len = (uint8_t)(n < PYRACE_KEY_MAX ? n : PYRACE_KEY_MAX);
	}
	if (stack % 9) {
		e->nframes = (uint8_t)(1 + stack % PYRACE_MAX_FRAMES);
		e->truncated = stack % 11 == 0;
		for (size_t f = 0; f < e->nframes; f++) {
			e->frames[f].code =
			    trace_tag_addr(e->process, 0x7f1000000000ull + stack * 0x100 + f);
			e->frames[f].instr = (uint32_t)(stack + f);
		}
	} else if (stack % 2) {
		e->truncated = 1; /* no frames, but deeper than the kernel reads */
	}
}

/* The reader's stacks: the frames of each id it gave. */
struct stacks {
	struct pyrace_frame (*frames)[PYRACE_MAX_FRAMES];
	uint8_t *n, *truncated;
	uint32_t count, cap;
};

static uint32_t intern(void *ctx, const struct pyrace_frame *frames, size_t n, int truncated)
{
	struct stacks *s = ctx;
	assert_true(n <= PYRACE_MAX_FRAMES);
	uint32_t id = ++s->count;
	if (id >= s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->frames = realloc(s->frames, s->cap * sizeof(*s->frames));
		s->n = realloc(s->n, s->cap);
		s->truncated = realloc(s->truncated, s->cap);
		assert_non_null(s->frames);
		assert_non_null(s->n);
		assert_non_null(s->truncated);
	}
	memcpy(s->frames[id], frames, n * sizeof(*frames));
	s->n[id] = (uint8_t)n;
	s->truncated[id] = (uint8_t)truncated;
	return id;
}

static void test_round_trip_with_id_reuse(void **state)
{
	(void)state;
	char path[] = "/tmp/pyrace-codec-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct trace_writer *w = trace_writer_open(path);
	assert_non_null(w);
	struct trace_encoder enc;
	assert_int_equal(trace_encoder_init(&enc, w), 0);
	rng = 88172645463325252ull;
	struct pyrace_event e;
	for (uint64_t i = 0; i < NEVENTS; i++) {
		make_event(i, &e);
		int check;
		uint32_t stack = trace_encode_stack(&enc, e.frames, e.nframes, e.truncated, &check);
		assert_int_equal(stack == 0, e.nframes == 0 && !e.truncated);
		assert_int_equal(trace_encode_event(&enc, &e, stack), 0);
	}
	/* ids ran out and were reused: definitions well beyond the ids the format keeps */
	assert_true(enc.definitions > TRACE_KEY_IDS + TRACE_STACK_IDS + TRACE_THREAD_IDS);
	trace_encoder_free(&enc);
	assert_int_equal(trace_writer_close(w), 0);

	char why[256];
	struct trace_reader *r = trace_reader_open(path, why, sizeof(why));
	assert_non_null(r);
	assert_int_equal(trace_reader_version(r), TRACE_VERSION);
	struct stacks stacks = {0};
	struct trace_decoder d;
	assert_int_equal(trace_decoder_init(&d, intern, &stacks), 0);
	rng = 88172645463325252ull;
	uint64_t i = 0;
	uint32_t type;
	struct trace_buf p;
	while (trace_reader_next(r, &type, &p, why, sizeof(why)) == 1) {
		if (type != TREC_EV) {
			assert_int_equal(trace_decode_definition(&d, type, p.data, p.len), 0);
			continue;
		}
		struct trace_event got;
		assert_int_equal(trace_decode_event(&d, p.data, p.len, &got), 0);
		make_event(i++, &e);
		assert_int_equal(got.ts_ns, e.ts_ns);
		assert_int_equal(got.pid, e.pid);
		assert_int_equal(got.tid, e.tid);
		assert_int_equal(got.process, e.process);
		assert_int_equal(got.type, e.type);
		assert_int_equal(got.op, e.op);
		assert_int_equal(got.obj, e.obj);
		assert_int_equal(got.aux, e.aux);
		assert_int_equal(got.key_kind, e.key_kind);
		assert_int_equal(got.key_id, e.key_id);
		assert_int_equal(got.key_len, e.key_len);
		assert_memory_equal(got.key, e.key, e.key_len);
		assert_int_equal(got.nframes, e.nframes);
		assert_int_equal(got.truncated, e.truncated);
		if (e.nframes || e.truncated) {
			assert_true(got.stack > 0 && got.stack <= stacks.count);
			assert_int_equal(stacks.n[got.stack], e.nframes);
			assert_int_equal(stacks.truncated[got.stack], e.truncated);
			assert_memory_equal(stacks.frames[got.stack], e.frames,
					    e.nframes * sizeof(e.frames[0]));
		} else {
			assert_int_equal(got.stack, 0);
		}
	}
	assert_int_equal(i, NEVENTS);
	trace_decoder_free(&d);
	trace_reader_close(r);
	free(stacks.frames);
	free(stacks.n);
	free(stacks.truncated);
	unlink(path);
}

/* A stack seen again is checked again (its code objects written anew) once a code object died,
 * and only once. */
static void test_stack_checked_after_code_freed(void **state)
{
	(void)state;
	struct trace_writer *w = trace_writer_open("/dev/null");
	assert_non_null(w);
	struct trace_encoder enc;
	assert_int_equal(trace_encoder_init(&enc, w), 0);
	struct pyrace_frame f[2] = {{.code = 0x1000, .instr = 3}, {.code = 0x2000, .instr = 4}};
	int check;
	uint32_t id = trace_encode_stack(&enc, f, 2, 0, &check);
	assert_int_equal(check, 1);
	assert_int_equal(trace_encode_stack(&enc, f, 2, 0, &check), id);
	assert_int_equal(check, 0);
	assert_int_not_equal(trace_encode_stack(&enc, f, 1, 0, &check), id);
	assert_int_equal(check, 1);
	assert_int_not_equal(trace_encode_stack(&enc, f, 2, 1, &check), id);
	assert_int_equal(check, 1);
	trace_encoder_code_freed(&enc);
	assert_int_equal(trace_encode_stack(&enc, f, 2, 0, &check), id);
	assert_int_equal(check, 1);
	assert_int_equal(trace_encode_stack(&enc, f, 2, 0, &check), id);
	assert_int_equal(check, 0);
	assert_int_equal(trace_encode_stack(&enc, f, 0, 0, &check), 0);
	assert_int_equal(check, 0);
	trace_encoder_free(&enc);
	assert_int_equal(trace_writer_close(w), 0);
}

/* Events that refer to ids never defined, or are cut short, are refused, not guessed. */
static void test_decoder_refuses_undefined_ids(void **state)
{
	(void)state;
	struct stacks stacks = {0};
	struct trace_decoder d;
	assert_int_equal(trace_decoder_init(&d, intern, &stacks), 0);
	struct trace_event got;
	/* type/op, ts, thread 0, obj, aux, key, stack */
	const uint8_t ev[] = {PYEV_ACCESS << 4 | PYOP_READ, 2, 0, 0, 0, 0, 0};
	assert_int_equal(trace_decode_event(&d, ev, sizeof(ev), &got), -1);
	const uint8_t thread[] = {0, 1, 77, 78};
	assert_int_equal(trace_decode_definition(&d, TREC_THREAD, thread, sizeof(thread)), 0);
	assert_int_equal(trace_decode_event(&d, ev, sizeof(ev), &got), 0);
	assert_int_equal(got.tid, 78);
	for (size_t n = 0; n < sizeof(ev); n++)
		assert_int_equal(trace_decode_event(&d, ev, n, &got), -1);
	const uint8_t with_key[] = {PYEV_ACCESS << 4 | PYOP_READ, 2, 0, 0, 0, 3, 0};
	assert_int_equal(trace_decode_event(&d, with_key, sizeof(with_key), &got), -1);
	const uint8_t with_stack[] = {PYEV_ACCESS << 4 | PYOP_READ, 2, 0, 0, 0, 0, 5};
	assert_int_equal(trace_decode_event(&d, with_stack, sizeof(with_stack), &got), -1);
	const uint8_t far_thread[] = {
	    PYEV_ACCESS << 4 | PYOP_READ, 2, 0x80, 0x80, 0x01, 0, 0, 0, 0};
	assert_int_equal(trace_decode_event(&d, far_thread, sizeof(far_thread), &got), -1);
	/* definitions out of range or cut short */
	const uint8_t bad_stack[] = {0, 0, 0};
	assert_int_equal(trace_decode_definition(&d, TREC_STACK, bad_stack, sizeof(bad_stack)), -1);
	const uint8_t short_stack[] = {1, 0, 2, 0x10, 1};
	assert_int_equal(trace_decode_definition(&d, TREC_STACK, short_stack, sizeof(short_stack)),
			 -1);
	const uint8_t long_key[] = {1, PYKEY_STR, 5, PYRACE_KEY_MAX + 1, 'a'};
	assert_int_equal(trace_decode_definition(&d, TREC_KEY, long_key, sizeof(long_key)), -1);
	assert_int_equal(stacks.count, 0);
	trace_decoder_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_with_id_reuse),
	    cmocka_unit_test(test_stack_checked_after_code_freed),
	    cmocka_unit_test(test_decoder_refuses_undefined_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
