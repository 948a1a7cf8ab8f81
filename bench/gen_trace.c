/* Writes a synthetic trace for the analyzer benchmark: a service-like mix of threads, locks,
 * module-global dicts and keys, with stacks drawn from a fixed set of call sites.
 *
 *   gen_trace FILE EVENTS [THREADS LOCKS VARIABLES KEYS]
 *
 * Most accesses happen under the lock that guards their variable; one variable in sixteen is
 * accessed without one, so that the analysis also finds races, as in a real run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "trace_codec.h"
#include "trace_io.h"

#define MODULE_DICT 0x100000ull
#define VAR_BASE    0x200000ull
#define LOCK_BASE   0x300000ull
#define BOOT_BASE   0x400000ull
#define CODE_BASE   0x7f0000000000ull
#define NSITES	    256
#define STACK_DEPTH 8

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct trace_writer *w;
static struct trace_encoder enc;
static uint64_t now_ns = 1000000;

/* As the consumer writes it: stacks and keys defined once, compact events. */
static void put_event(struct pyrace_event *e)
{
	e->ts_ns = (now_ns += 150);
	int check;
	uint32_t stack = trace_encode_stack(&enc, e->frames, e->nframes, e->truncated, &check);
	if (trace_encode_event(&enc, e, stack)) {
		perror("gen_trace: write");
		exit(1);
	}
}

static struct pyrace_event blank(uint8_t type, uint8_t op, uint32_t tid)
{
	struct pyrace_event e;
	memset(&e, 0, sizeof(e));
	e.pid = 1000;
	e.tid = tid;
	e.type = type;
	e.op = op;
	return e;
}

static void set_name(struct pyrace_event *e, const char *name)
{
	size_t n = strlen(name);
	e->key_kind = PYKEY_STR;
	e->key_len = (uint8_t)(n < PYRACE_KEY_MAX ? n : PYRACE_KEY_MAX);
	memcpy(e->key, name, e->key_len);
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)name[i]) * 1099511628211ull;
	e->key_id = h;
}

/* A stack of STACK_DEPTH frames whose innermost site depends on the variable and operation. */
static void set_stack(struct pyrace_event *e, uint32_t site)
{
	e->nframes = STACK_DEPTH;
	for (uint32_t i = 0; i < STACK_DEPTH; i++) {
		e->frames[i].code = CODE_BASE + 0x1000ull * ((site + i * 37) % NSITES);
		e->frames[i].instr = (site * 7 + i) % 64;
	}
}

static void write_code_objects(void)
{
	/* one line-table entry: 8 code units, no columns, line = first line + 1 */
	static const uint8_t table[] = {0x80 | (13 << 3) | 7, 2, 0x80 | (13 << 3) | 7, 2,
					0x80 | (13 << 3) | 7, 2, 0x80 | (13 << 3) | 7, 2,
					0x80 | (13 << 3) | 7, 2, 0x80 | (13 << 3) | 7, 2,
					0x80 | (13 << 3) | 7, 2, 0x80 | (13 << 3) | 7, 2};
	for (uint32_t i = 0; i < NSITES; i++) {
		struct trace_buf b = {0};
		char file[64], name[64];
		snprintf(file, sizeof file, "/srv/app/module%u.py", i % 32);
		snprintf(name, sizeof name, "handler_%u", i);
		trace_put_u64(&b, CODE_BASE + 0x1000ull * i);
		trace_put_u32(&b, 10 + i);
		trace_put_str(&b, file);
		trace_put_str(&b, name);
		trace_put_bytes(&b, table, sizeof table);
		trace_writer_record(w, TREC_CODE, b.data, (uint32_t)b.len);
		trace_buf_free(&b);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 7) {
		fprintf(stderr, "usage: gen_trace FILE EVENTS [THREADS LOCKS VARIABLES KEYS]\n");
		return 1;
	}
	uint64_t events = strtoull(argv[2], NULL, 10);
	uint32_t threads = argc == 7 ? (uint32_t)atoi(argv[3]) : 32;
	uint32_t locks = argc == 7 ? (uint32_t)atoi(argv[4]) : 64;
	uint32_t vars = argc == 7 ? (uint32_t)atoi(argv[5]) : 200;
	uint32_t keys = argc == 7 ? (uint32_t)atoi(argv[6]) : 1000;
	if (!threads || !locks || !vars || !keys) {
		fprintf(stderr, "gen_trace: counts must be positive\n");
		return 1;
	}
	w = trace_writer_open(argv[1]);
	if (!w || trace_encoder_init(&enc, w)) {
		perror("gen_trace");
		return 1;
	}
	struct trace_buf b = {0};
	trace_put_u32(&b, 1000);
	trace_put_str(&b, "3.11.2");
	trace_put_str(&b, "/usr/bin/python3.11");
	trace_put_str(&b, "release");
	trace_put_u32(&b, 2);
	trace_put_str(&b, "python3");
	trace_put_str(&b, "service.py");
	trace_writer_record(w, TREC_TARGET, b.data, (uint32_t)b.len);
	trace_buf_free(&b);
	write_code_objects();

	uint64_t written = 0;
	struct pyrace_event e = blank(PYEV_WATCH, PYWATCH_MODULE, 1000);
	e.obj = MODULE_DICT;
	set_name(&e, "app");
	put_event(&e);
	for (uint32_t v = 0; v < vars; v++, written++) {
		char name[32];
		snprintf(name, sizeof name, "CACHE_%u", v);
		e = blank(PYEV_WATCH, PYWATCH_GLOBAL_DICT, 1000);
		e.obj = VAR_BASE + 0x100ull * v;
		e.aux = MODULE_DICT;
		set_name(&e, name);
		put_event(&e);
	}
	for (uint32_t t = 0; t < threads; t++, written += 2) {
		e = blank(PYEV_SYNC, PYSYNC_THREAD_SPAWN, 1000);
		e.obj = BOOT_BASE + t;
		put_event(&e);
		e = blank(PYEV_SYNC, PYSYNC_THREAD_BEGIN, 1001 + t);
		e.obj = BOOT_BASE + t;
		put_event(&e);
	}
	while (written < events) {
		uint64_t r = next_random();
		uint32_t tid = 1001 + (uint32_t)(r % threads);
		uint32_t v = (uint32_t)((r >> 16) % vars);
		uint32_t key = (uint32_t)((r >> 32) % keys);
		uint8_t op = ((r >> 48) & 3) == 0 ? PYOP_WRITE : PYOP_READ;
		int locked = v % 16 != 0;
		uint64_t lock = LOCK_BASE + 0x40ull * (v % locks);
		if (locked) {
			e = blank(PYEV_SYNC, PYSYNC_ACQUIRE, tid);
			e.obj = lock;
			set_stack(&e, v * 3);
			put_event(&e);
			written++;
		}
		e = blank(PYEV_ACCESS, op, tid);
		e.obj = VAR_BASE + 0x100ull * v;
		char k[24];
		snprintf(k, sizeof k, "key-%u", key);
		set_name(&e, k);
		set_stack(&e, v * 3 + op);
		put_event(&e);
		written++;
		if (locked) {
			e = blank(PYEV_SYNC, PYSYNC_RELEASE, tid);
			e.obj = lock;
			set_stack(&e, v * 3 + 2);
			put_event(&e);
			written++;
		}
	}
	b = (struct trace_buf){0};
	trace_put_u64(&b, 0);
	trace_put_u64(&b, 0);
	trace_put_u64(&b, 0);
	trace_put_u64(&b, now_ns);
	trace_put_u32(&b, 0);
	trace_put_u32(&b, 0);
	trace_writer_record(w, TREC_STATS, b.data, (uint32_t)b.len);
	trace_buf_free(&b);
	trace_encoder_free(&enc);
	if (trace_writer_close(w)) {
		perror("gen_trace: close");
		return 1;
	}
	printf("%llu events\n", (unsigned long long)written);
	return 0;
}
