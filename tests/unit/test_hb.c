/* Drives the happens-before detector (hb_event) with synthetic event sequences; checks races. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_table.h"
#include "hb.h"

/* ---- fixture and event builders ---------------------------------------------------------- */

enum {
	MAIN = 4000, /* pid, and tid of the main thread */
	T1 = 4001,
	T2 = 4002,
	T3 = 4003,
	T4 = 4004,
};

#define MAIN_MOD 0x10000ull /* __main__.__dict__ */
#define CACHE	 0x20000ull /* __main__.CACHE = {} */
#define OTHER	 0x30000ull /* __main__.OTHER = {} */
#define LOCK_A	 0xa0000ull
#define LOCK_B	 0xb0000ull
#define LOCK_C	 0xc0000ull
#define SENTINEL 0xd0000ull
#define BOOT_1	 0xe1000ull
#define BOOT_2	 0xe2000ull
#define QUEUE	 0xf0000ull
#define REGISTRY 0xf8000ull
#define ITEM_1	 0xf1000ull
#define ITEM_2	 0xf2000ull
#define ITEMS	 0x40000ull /* __main__.ITEMS = [] */
#define SEEN	 0x50000ull /* __main__.SEEN = set() */
#define CODE_1	 0x7000100ull
#define CODE_2	 0x7000200ull
#define CODE_3	 0x7000300ull
#define CODE_4	 0x7000400ull
#define CODE_5	 0x7000500ull

struct fixture {
	struct code_table code;
	struct hb h;
	uint64_t ts;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	code_table_init(&f->code);
	hb_init(&f->h, &f->code);
	hb_set_main_pid(&f->h, MAIN);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hb_free(&f->h);
	code_table_free(&f->code);
	free(f);
	return 0;
}

/* FNV-1a of the text: equal texts get equal ids, as str hashes do. */
static uint64_t str_id(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

static struct pyrace_event event(struct fixture *f, uint8_t type, uint8_t op, uint32_t tid,
				 uint64_t obj, uint64_t aux)
{
	struct pyrace_event e;
	memset(&e, 0, sizeof(e));
	e.ts_ns = ++f->ts;
	e.pid = MAIN;
	e.tid = tid;
	e.type = type;
	e.op = op;
	e.obj = obj;
	e.aux = aux;
	return e;
}

static void set_text(struct pyrace_event *e, const char *text)
{
	size_t n = strlen(text) < PYRACE_KEY_MAX ? strlen(text) : PYRACE_KEY_MAX;
	e->key_kind = PYKEY_STR;
	e->key_len = (uint8_t)n;
	memcpy(e->key, text, n);
	e->key_id = str_id(text);
}

static void add_frame(struct pyrace_event *e, uint64_t code, uint32_t instr)
{
	assert_true(e->nframes < PYRACE_MAX_FRAMES);
	e->frames[e->nframes].code = code;
	e->frames[e->nframes].instr = instr;
	e->nframes++;
}

static void feed(struct fixture *f, const struct pyrace_event *e)
{
	hb_event(&f->h, e);
}

static void watch_module(struct fixture *f, uint64_t dict, const char *name)
{
	struct pyrace_event e = event(f, PYEV_WATCH, PYWATCH_MODULE, MAIN, dict, 0);
	set_text(&e, name);
	feed(f, &e);
}

static void watch_global(struct fixture *f, uint64_t dict, uint64_t module, const char *name)
{
	struct pyrace_event e = event(f, PYEV_WATCH, PYWATCH_GLOBAL_DICT, MAIN, dict, module);
	set_text(&e, name);
	feed(f, &e);
}

static void unwatch(struct fixture *f, uint64_t dict)
{
	struct pyrace_event e = event(f, PYEV_UNWATCH, 0, MAIN, dict, 0);
	feed(f, &e);
}

/* __main__ and __main__.CACHE, the setting of most tests. */
static void watch_main(struct fixture *f)
{
	watch_module(f, MAIN_MOD, "__main__");
	watch_global(f, CACHE, MAIN_MOD, "CACHE");
}

/* An access to a str key; `site` is the code address of its only frame, 0 for no frames. */
static void acc(struct fixture *f, uint32_t tid, uint64_t dict, uint8_t op, const char *key,
		uint64_t site)
{
	struct pyrace_event e = event(f, PYEV_ACCESS, op, tid, dict, 0);
	if (key)
		set_text(&e, key);
	if (site)
		add_frame(&e, site, 0);
	feed(f, &e);
}

static void acc_int(struct fixture *f, uint32_t tid, uint64_t dict, uint8_t op, int64_t key,
		    uint64_t site)
{
	struct pyrace_event e = event(f, PYEV_ACCESS, op, tid, dict, 0);
	e.key_kind = PYKEY_INT;
	e.key_id = (uint64_t)key;
	if (site)
		add_frame(&e, site, 0);
	feed(f, &e);
}

/* `module_dict[name] = value`, recording the stored object (what binds a lock to a name). */
static void store(struct fixture *f, uint32_t tid, uint64_t module_dict, const char *name,
		  uint64_t value)
{
	struct pyrace_event e = event(f, PYEV_ACCESS, PYOP_WRITE, tid, module_dict, value);
	set_text(&e, name);
	feed(f, &e);
}

static void sync_ev(struct fixture *f, uint32_t tid, uint8_t op, uint64_t obj, uint64_t aux)
{
	struct pyrace_event e = event(f, PYEV_SYNC, op, tid, obj, aux);
	feed(f, &e);
}

static void acquire(struct fixture *f, uint32_t tid, uint64_t lock)
{
	sync_ev(f, tid, PYSYNC_ACQUIRE, lock, 0);
}

static void release(struct fixture *f, uint32_t tid, uint64_t lock)
{
	sync_ev(f, tid, PYSYNC_RELEASE, lock, 0);
}

/* A TREC_CODE payload into the code table. */
static void add_code(struct fixture *f, uint64_t addr, const char *file, const char *qualname,
		     int first_line, const uint8_t *table, uint32_t table_len)
{
	struct trace_buf b = {0};
	trace_put_u64(&b, addr);
	trace_put_u32(&b, (uint32_t)first_line);
	trace_put_str(&b, file);
	trace_put_str(&b, qualname);
	trace_put_bytes(&b, table, table_len);
	assert_false(b.error);
	b.pos = 0;
	assert_int_equal(code_table_add(&f->code, &b), 0);
	trace_buf_free(&b);
}

/* ---- inspecting the detector ------------------------------------------------------------- */

/* The newest incarnation of the watched dict at `addr`. */
static uint32_t var_at(const struct hb *h, uint64_t addr)
{
	for (size_t i = h->nvars; i > 0; i--)
		if (h->vars[i - 1].addr == addr)
			return (uint32_t)(i - 1);
	fail_msg("no variable at 0x%llx", (unsigned long long)addr);
	return UINT32_MAX;
}

static uint32_t tid_of(const struct hb *h, uint32_t thread)
{
	assert_true(thread < h->nthreads);
	return h->threads[thread].tid;
}

static uint32_t lock_index(const struct hb *h, uint64_t addr)
{
	uint64_t *slot = u64map_get((struct u64map *)&h->lock_by_addr, addr, 0);
	assert_non_null(slot);
	return (uint32_t)(*slot - 1);
}

/* Checks race `i`: variable, key (NULL: the whole dict), and both accesses. */
static void check_race(const struct hb *h, size_t i, uint32_t var, const char *key, uint8_t cur_op,
		       uint32_t cur_tid, uint8_t prev_op, uint32_t prev_tid)
{
	assert_true(i < h->nraces);
	const struct hb_race *r = &h->races[i];
	assert_int_equal(r->var, var);
	if (key) {
		assert_int_not_equal(r->shadow, UINT32_MAX);
		assert_true(r->shadow < h->nshadows);
		assert_int_equal(h->shadows[r->shadow].var, var);
		assert_string_equal(h->shadows[r->shadow].key_text, key);
	} else {
		assert_int_equal(r->shadow, UINT32_MAX);
	}
	assert_int_equal(r->current.op, cur_op);
	assert_int_equal(tid_of(h, r->current.thread), cur_tid);
	assert_int_equal(r->previous.op, prev_op);
	assert_int_equal(tid_of(h, r->previous.thread), prev_tid);
}

/* The locks of an access's lockset as addresses. */
static size_t held_addrs(const struct hb *h, uint32_t lockset, uint64_t *out, size_t max)
{
	const uint32_t *locks = NULL;
	size_t n = hb_lockset(h, lockset, &locks);
	assert_true(n <= max);
	for (size_t i = 0; i < n; i++) {
		assert_true(locks[i] < h->nlocks);
		out[i] = h->locks[locks[i]].addr;
	}
	return n;
}

/* The last write remembered for dict[key]. */
static const struct hb_access *last_write(const struct hb *h, uint64_t dict, const char *key)
{
	uint32_t var = var_at(h, dict);
	for (size_t i = 0; i < h->nshadows; i++) {
		const struct hb_shadow *s = &h->shadows[i];
		if (s->var == var && s->key_text && strcmp(s->key_text, key) == 0) {
			assert_true(s->has_write);
			return &s->write;
		}
	}
	fail_msg("no shadow for key %s", key);
	return NULL;
}

/* __main__.NAME bound to a list or a set (kind PYWATCH_GLOBAL_LIST or _SET) */
static void watch_container(struct fixture *f, uint8_t kind, uint64_t obj, const char *name)
{
	struct pyrace_event e = event(f, PYEV_WATCH, kind, MAIN, obj, MAIN_MOD);
	set_text(&e, name);
	feed(f, &e);
}

/* A set element as the probe reports it: a str whose cached hash may not be computed yet. */
static void acc_element(struct fixture *f, uint32_t tid, uint8_t op, const char *text,
			uint64_t hash)
{
	struct pyrace_event e = event(f, PYEV_ACCESS, op, tid, SEEN, 0);
	set_text(&e, text);
	e.key_id = hash;
	feed(f, &e);
}

/* ---- conflicting accesses ---------------------------------------------------------------- */

static void test_write_write(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	uint32_t var = var_at(&f->h, CACHE);
	assert_int_equal(f->h.vars[var].kind, HB_VAR_GLOBAL_DICT);
	assert_string_equal(f->h.vars[var].module, "__main__");
	assert_string_equal(f->h.vars[var].name, "CACHE");
	check_race(&f->h, 0, var, "k", PYOP_WRITE, T2, PYOP_WRITE, T1);
	assert_int_equal(f->h.races[0].occurrences, 1);
	assert_int_equal(f->h.shadows[f->h.races[0].shadow].key_kind, PYKEY_STR);
	assert_int_equal(f->h.shadows[f->h.races[0].shadow].key_id, str_id("k"));
}

static void test_read_write(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_READ, "k", 0);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_READ, T1);
}

static void test_write_read(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acc(f, T2, CACHE, PYOP_READ, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_READ, T2, PYOP_WRITE, T1);
}

/* Reads never conflict with reads, and a thread never races with itself. */
static void test_reads_and_one_thread_do_not_race(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	watch_global(f, OTHER, MAIN_MOD, "OTHER");
	acc(f, T1, CACHE, PYOP_READ, "k", 0);
	acc(f, T2, CACHE, PYOP_READ, "k", 0);
	acc(f, T3, CACHE, PYOP_READ, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	acc(f, T4, OTHER, PYOP_WRITE, "j", 0);
	acc(f, T4, OTHER, PYOP_READ, "j", 0);
	acc(f, T4, OTHER, PYOP_WRITE, "j", 0);
	acc(f, T4, OTHER, PYOP_CLEAR, NULL, 0);
	acc(f, T4, OTHER, PYOP_CLEAR, NULL, 0);
	acc(f, T4, OTHER, PYOP_WRITE, "j", 0);
	assert_int_equal(f->h.nraces, 0);
	/* control: the three readers all race with a write of another thread, folded into one
	 * race (no frames, same key: see test_dedup_without_frames) */
	acc(f, T4, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	assert_int_equal(f->h.races[0].occurrences, 3);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T4, PYOP_READ, T1);
}

/* delete and pop are writes; setdefault is a read (its insertion, if any, is a write of its
 * own), so two setdefaults of a present key do not race, but one races with a write. */
static void test_other_write_ops(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	const uint8_t ops[] = {PYOP_DELETE, PYOP_POP};
	const char *keys[] = {"d", "p"};
	for (size_t i = 0; i < 2; i++) {
		acc(f, T1, CACHE, PYOP_READ, keys[i], 0);
		acc(f, T2, CACHE, ops[i], keys[i], 0);
		assert_int_equal(f->h.nraces, i + 1);
		check_race(&f->h, i, var_at(&f->h, CACHE), keys[i], ops[i], T2, PYOP_READ, T1);
	}
	acc(f, T1, CACHE, PYOP_SETDEFAULT, "s", 0);
	acc(f, T2, CACHE, PYOP_SETDEFAULT, "s", 0);
	assert_int_equal(f->h.nraces, 2);
	acc(f, T3, CACHE, PYOP_WRITE, "s", 0);
	/* against both setdefaults: one pair of locations, seen twice */
	assert_int_equal(f->h.nraces, 3);
	assert_int_equal(f->h.races[2].occurrences, 2);
	check_race(&f->h, 2, var_at(&f->h, CACHE), "s", PYOP_WRITE, T3, PYOP_SETDEFAULT, T1);
}

/* `global X; X = ...` in two threads: a race on the module variable. */
static void test_module_global(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, MAIN_MOD, PYOP_WRITE, "CELLS", 0);
	acc(f, T2, MAIN_MOD, PYOP_WRITE, "CELLS", 0);
	assert_int_equal(f->h.nraces, 1);
	uint32_t var = var_at(&f->h, MAIN_MOD);
	assert_int_equal(f->h.vars[var].kind, HB_VAR_MODULE);
	assert_string_equal(f->h.vars[var].module, "__main__");
	assert_null(f->h.vars[var].name);
	check_race(&f->h, 0, var, "CELLS", PYOP_WRITE, T2, PYOP_WRITE, T1);
}

static void test_distinct_keys(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	watch_global(f, OTHER, MAIN_MOD, "OTHER");
	acc(f, T1, CACHE, PYOP_WRITE, "a", 0);
	acc(f, T2, CACHE, PYOP_WRITE, "b", 0);
	acc(f, T3, OTHER, PYOP_WRITE, "a", 0); /* same key, another dict */
	assert_int_equal(f->h.nraces, 0);
	/* control: the same key of the same dict does race */
	acc(f, T2, CACHE, PYOP_WRITE, "a", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "a", PYOP_WRITE, T2, PYOP_WRITE, T1);
}

static void test_int_keys(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc_int(f, T1, CACHE, PYOP_WRITE, 7, 0);
	acc_int(f, T2, CACHE, PYOP_WRITE, 8, 0);
	acc_int(f, T2, CACHE, PYOP_WRITE, -7, 0);
	/* a str key whose id happens to be 7 is another key */
	struct pyrace_event e = event(f, PYEV_ACCESS, PYOP_WRITE, T3, CACHE, 0);
	set_text(&e, "7");
	e.key_id = 7;
	feed(f, &e);
	assert_int_equal(f->h.nraces, 0);
	acc_int(f, T3, CACHE, PYOP_READ, 7, 0);
	assert_int_equal(f->h.nraces, 1);
	const struct hb_race *r = &f->h.races[0];
	assert_int_equal(r->var, var_at(&f->h, CACHE));
	assert_int_equal(f->h.shadows[r->shadow].key_kind, PYKEY_INT);
	assert_int_equal(f->h.shadows[r->shadow].key_id, 7);
	assert_int_equal(r->current.op, PYOP_READ);
	assert_int_equal(tid_of(&f->h, r->current.thread), T3);
	assert_int_equal(tid_of(&f->h, r->previous.thread), T1);
}

/* ---- locks ------------------------------------------------------------------------------- */

static void test_lock_orders(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acquire(f, T1, LOCK_A);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	release(f, T1, LOCK_A);
	acquire(f, T2, LOCK_A);
	acc(f, T2, CACHE, PYOP_READ, "k", 0);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	release(f, T2, LOCK_A);
	assert_int_equal(f->h.nraces, 0);
	/* control: a thread that skips the lock races with the last holder's write */
	acc(f, T3, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T3, PYOP_WRITE, T2);
}

/* What T1 did before releasing A reaches T3 through T2 (A, then B). */
static void test_lock_orders_across_third_thread(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acquire(f, T1, LOCK_A);
	release(f, T1, LOCK_A);
	acquire(f, T2, LOCK_A);
	release(f, T2, LOCK_A);
	acquire(f, T2, LOCK_B);
	release(f, T2, LOCK_B);
	acquire(f, T3, LOCK_B);
	acc(f, T3, CACHE, PYOP_WRITE, "k", 0);
	release(f, T3, LOCK_B);
	assert_int_equal(f->h.nraces, 0);
	/* control: what T1 does after its release is not ordered before T3 */
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T1, PYOP_WRITE, T3);
}

/* A release orders only what came before it: an access after the release still races. */
static void test_write_after_release(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acquire(f, T1, LOCK_A);
	release(f, T1, LOCK_A);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acquire(f, T2, LOCK_A);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, T1);
}

static void test_two_locks_race(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acquire(f, T1, LOCK_A);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	release(f, T1, LOCK_A);
	acquire(f, T2, LOCK_B);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	release(f, T2, LOCK_B);
	assert_int_equal(f->h.nraces, 1);
	const struct hb_race *r = &f->h.races[0];
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, T1);
	uint64_t held[4];
	assert_int_equal(held_addrs(&f->h, r->current.lockset, held, 4), 1);
	assert_int_equal(held[0], LOCK_B);
	assert_int_equal(held_addrs(&f->h, r->previous.lockset, held, 4), 1);
	assert_int_equal(held[0], LOCK_A);
}

/* ---- threads ----------------------------------------------------------------------------- */

static void test_thread_spawn_orders(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, MAIN, CACHE, PYOP_WRITE, "k", 0);
	sync_ev(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_1, 0);
	sync_ev(f, T1, PYSYNC_THREAD_BEGIN, BOOT_1, 0);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	/* control: a thread started from another boot pointer is not ordered after main */
	acc(f, MAIN, CACHE, PYOP_WRITE, "j", 0);
	sync_ev(f, T2, PYSYNC_THREAD_BEGIN, BOOT_2, 0);
	acc(f, T2, CACHE, PYOP_WRITE, "j", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "j", PYOP_WRITE, T2, PYOP_WRITE, MAIN);
	/* and what the parent does after the spawn is not ordered before the child */
	acc(f, MAIN, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 2);
	check_race(&f->h, 1, var_at(&f->h, CACHE), "k", PYOP_WRITE, MAIN, PYOP_WRITE, T1);
	assert_int_equal(f->h.threads[0].ordinal, 0); /* main */
	assert_int_equal(f->h.threads[1].ordinal, 1);
	assert_int_equal(f->h.threads[2].ordinal, 2);
}

static void test_thread_exit_join(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	sync_ev(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_1, 0);
	sync_ev(f, T1, PYSYNC_THREAD_BEGIN, BOOT_1, 0);
	sync_ev(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_2, 0);
	sync_ev(f, T2, PYSYNC_THREAD_BEGIN, BOOT_2, 0);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	sync_ev(f, T1, PYSYNC_THREAD_EXIT, SENTINEL, 0);
	acquire(f, MAIN, SENTINEL); /* join() */
	acc(f, MAIN, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	/* control: T2 never joined T1 nor was started after main's write */
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, MAIN);
}

/* Without the joiner's acquire of the sentinel, thread end orders nothing. */
static void test_thread_exit_without_join(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	sync_ev(f, T1, PYSYNC_THREAD_EXIT, SENTINEL, 0);
	acc(f, MAIN, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, MAIN, PYOP_WRITE, T1);
}

/* 3.13+: a thread ends at its ThreadHandle and a join that saw it end acquires the handle; a
 * lock that later lives at the handle's address shares nothing with it. */
static void test_thread_handle_end_join(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	sync_ev(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_1, 0);
	sync_ev(f, T1, PYSYNC_THREAD_BEGIN, BOOT_1, 0);
	sync_ev(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_2, 0);
	sync_ev(f, T2, PYSYNC_THREAD_BEGIN, BOOT_2, 0);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acc(f, T2, CACHE, PYOP_WRITE, "m", 0);
	sync_ev(f, T1, PYSYNC_THREAD_END, SENTINEL, 0);
	sync_ev(f, MAIN, PYSYNC_THREAD_JOIN, SENTINEL, 0);
	acc(f, MAIN, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	/* T2 ended but was never joined */
	sync_ev(f, T2, PYSYNC_THREAD_END, SENTINEL + 0x100, 0);
	acc(f, MAIN, CACHE, PYOP_WRITE, "m", 0);
	assert_int_equal(f->h.nraces, 1);
	/* the handle is no held lock, and a Lock at its address is another object */
	assert_int_equal(f->h.threads[0].nheld, 0);
	acquire(f, MAIN, SENTINEL);
	assert_int_equal(f->h.threads[0].nheld, 1);
	assert_false(f->h.locks[lock_index(&f->h, SENTINEL)].sentinel);
}

/* A thread that begins under a tid seen before is a new thread, ordered only by its start. */
static void test_reused_tid_is_new_thread(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	sync_ev(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_1, 0);
	sync_ev(f, T1, PYSYNC_THREAD_BEGIN, BOOT_1, 0);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	sync_ev(f, T1, PYSYNC_THREAD_EXIT, SENTINEL, 0);
	size_t before = f->h.nthreads;
	sync_ev(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_2, 0);
	sync_ev(f, T1, PYSYNC_THREAD_BEGIN, BOOT_2, 0);
	assert_int_equal(f->h.nthreads, before + 1);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	const struct hb_race *r = &f->h.races[0];
	assert_int_not_equal(r->current.thread, r->previous.thread);
	assert_int_equal(tid_of(&f->h, r->current.thread), T1);
	assert_int_equal(tid_of(&f->h, r->previous.thread), T1);
}

/* The thread's own sentinel acquire (in Thread._set_tstate_lock) is not a held lock. */
static void test_sentinel_not_held(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	add_code(f, CODE_1, "/usr/lib/python3.11/threading.py", "Thread._set_tstate_lock", 1070,
		 NULL, 0);
	struct pyrace_event e = event(f, PYEV_SYNC, PYSYNC_ACQUIRE, T1, SENTINEL, 0);
	add_frame(&e, CODE_1, 0);
	feed(f, &e);
	acquire(f, T1, LOCK_A);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	uint64_t held[4];
	assert_int_equal(held_addrs(&f->h, last_write(&f->h, CACHE, "k")->lockset, held, 4), 1);
	assert_int_equal(held[0], LOCK_A);
	assert_true(f->h.locks[lock_index(&f->h, SENTINEL)].sentinel);
	assert_false(f->h.locks[lock_index(&f->h, LOCK_A)].sentinel);
	release(f, T1, LOCK_A);
	sync_ev(f, T1, PYSYNC_THREAD_EXIT, SENTINEL, 0);
	acquire(f, MAIN, SENTINEL);
	acc(f, MAIN, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
}

/* Whether an acquire takes a sentinel is known once per stack, until a code object takes the
 * address of the one in its innermost frame: the same frames then run other code. */
static void test_sentinel_after_code_replaced(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	add_code(f, CODE_1, "/usr/lib/python3.11/threading.py", "Thread._set_tstate_lock", 1070,
		 NULL, 0);
	struct pyrace_event e = event(f, PYEV_SYNC, PYSYNC_ACQUIRE, T1, SENTINEL, 0);
	add_frame(&e, CODE_1, 0);
	feed(f, &e);
	assert_true(f->h.locks[lock_index(&f->h, SENTINEL)].sentinel);
	/* the same stack again, for another lock: a sentinel too */
	e = event(f, PYEV_SYNC, PYSYNC_ACQUIRE, T2, LOCK_B, 0);
	add_frame(&e, CODE_1, 0);
	feed(f, &e);
	assert_true(f->h.locks[lock_index(&f->h, LOCK_B)].sentinel);
	/* the code object died and a function of the program now lives at its address */
	add_code(f, CODE_1, "/srv/app.py", "worker", 10, NULL, 0);
	e = event(f, PYEV_SYNC, PYSYNC_ACQUIRE, T1, LOCK_A, 0);
	add_frame(&e, CODE_1, 0);
	feed(f, &e);
	assert_false(f->h.locks[lock_index(&f->h, LOCK_A)].sentinel);
}

/* ---- SimpleQueue ------------------------------------------------------------------------- */

static void test_queue_same_item_orders(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	sync_ev(f, T1, PYSYNC_QUEUE_PUT, QUEUE, ITEM_1);
	sync_ev(f, T2, PYSYNC_QUEUE_GET, QUEUE, ITEM_1);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	/* control: what the producer does after the put is not ordered before the consumer */
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T1, PYOP_WRITE, T2);
}

static void test_queue_other_item_does_not_order(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acc(f, T1, CACHE, PYOP_WRITE, "m", 0);
	sync_ev(f, T1, PYSYNC_QUEUE_PUT, QUEUE, ITEM_1);
	sync_ev(f, T2, PYSYNC_QUEUE_GET, QUEUE, ITEM_2);
	sync_ev(f, T2, PYSYNC_QUEUE_GET, QUEUE + 8, ITEM_1); /* same item, another queue */
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, T1);
	/* the item is still in the queue: the get that returns it orders the put before it */
	sync_ev(f, T3, PYSYNC_QUEUE_GET, QUEUE, ITEM_1);
	acc(f, T3, CACHE, PYOP_WRITE, "m", 0);
	assert_int_equal(f->h.nraces, 1);
}

/* Regression (fixed): hb.c on_sync() PYSYNC_QUEUE_GET frees and removes the (queue, item) clock at
 * the first get, and PYSYNC_QUEUE_PUT of an item already waiting joins into that one clock: after
 * two puts of the same object (None sentinels, small ints, interned strs), the second get that
 * returns it finds no clock and is not ordered after either put, a false race. */
static void test_queue_same_item_twice(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	sync_ev(f, T1, PYSYNC_QUEUE_PUT, QUEUE, ITEM_1);
	sync_ev(f, T1, PYSYNC_QUEUE_PUT, QUEUE, ITEM_1);
	sync_ev(f, T2, PYSYNC_QUEUE_GET, QUEUE, ITEM_1);
	sync_ev(f, T3, PYSYNC_QUEUE_GET, QUEUE, ITEM_1);
	acc(f, T2, CACHE, PYOP_READ, "k", 0);
	acc(f, T3, CACHE, PYOP_READ, "k", 0);
	assert_int_equal(f->h.nraces, 0);
}

/* ---- whole-dict operations --------------------------------------------------------------- */

static void test_clear_races_with_key_write(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	uint32_t var = var_at(&f->h, CACHE);
	acc(f, T1, CACHE, PYOP_WRITE, "k", CODE_1);
	acc(f, T2, CACHE, PYOP_CLEAR, NULL, CODE_2);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var, "k", PYOP_CLEAR, T2, PYOP_WRITE, T1);
	/* whole against whole */
	acc(f, T3, CACHE, PYOP_CLEAR, NULL, CODE_3);
	assert_int_equal(f->h.nraces, 3);
	check_race(&f->h, 1, var, NULL, PYOP_CLEAR, T3, PYOP_CLEAR, T2);
	check_race(&f->h, 2, var, "k", PYOP_CLEAR, T3, PYOP_WRITE, T1);
	/* a key write after an unordered clear races with the clear */
	size_t n = f->h.nraces;
	acc(f, T4, CACHE, PYOP_WRITE, "new", CODE_4);
	assert_int_equal(f->h.nraces, n + 1);
	check_race(&f->h, n, var, "new", PYOP_WRITE, T4, PYOP_CLEAR, T3);
}

/* popitem and update-into-empty are whole-dict writes too; a read after one races. */
static void test_whole_dict_ops(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	watch_global(f, OTHER, MAIN_MOD, "OTHER");
	acc(f, T1, CACHE, PYOP_POPITEM, NULL, 0);
	acc(f, T2, CACHE, PYOP_READ, "k", 0);
	acc(f, T1, OTHER, PYOP_READ, "k", 0);
	acc(f, T2, OTHER, PYOP_UPDATE, NULL, 0);
	assert_int_equal(f->h.nraces, 2);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_READ, T2, PYOP_POPITEM, T1);
	check_race(&f->h, 1, var_at(&f->h, OTHER), "k", PYOP_UPDATE, T2, PYOP_READ, T1);
}

/* A list is one variable: any two of its writes conflict whatever they touch, a read
 * conflicts with a write, reads do not conflict; a lock orders them as for dicts. */
static void test_list_is_one_variable(void **state)
{
	struct fixture *f = *state;
	watch_module(f, MAIN_MOD, "__main__");
	watch_container(f, PYWATCH_GLOBAL_LIST, ITEMS, "ITEMS");
	uint32_t var = var_at(&f->h, ITEMS);
	assert_int_equal(f->h.vars[var].kind, HB_VAR_GLOBAL_LIST);
	assert_string_equal(f->h.vars[var].name, "ITEMS");
	acc(f, T1, ITEMS, PYOP_READ, NULL, CODE_1);
	acc(f, T2, ITEMS, PYOP_READ, NULL, CODE_2);
	assert_int_equal(f->h.nraces, 0);
	acc(f, T3, ITEMS, PYOP_WRITE, NULL, CODE_3);
	assert_int_equal(f->h.nraces, 2);
	assert_int_not_equal(f->h.races[0].shadow, UINT32_MAX);
	assert_int_equal(f->h.shadows[f->h.races[0].shadow].key_kind, PYKEY_NONE);
	assert_int_equal(f->h.races[0].current.op, PYOP_WRITE);
	assert_int_equal(f->h.races[0].previous.op, PYOP_READ);
	acc(f, T1, ITEMS, PYOP_WRITE, NULL, CODE_5);
	assert_int_equal(f->h.nraces, 3);
	assert_int_equal(f->h.races[2].previous.op, PYOP_WRITE);
	assert_int_equal(tid_of(&f->h, f->h.races[2].previous.thread), T3);
	/* under one lock: ordered */
	size_t n = f->h.nraces;
	acquire(f, T2, LOCK_A);
	acc(f, T2, ITEMS, PYOP_WRITE, NULL, CODE_4);
	release(f, T2, LOCK_A);
	n = f->h.nraces;
	acquire(f, T4, LOCK_A);
	acc(f, T4, ITEMS, PYOP_READ, NULL, CODE_4);
	release(f, T4, LOCK_A);
	assert_int_equal(f->h.nraces, n);
}

/* A list freed and another one made at its address: the new list is not the global. */
static void test_list_unwatched_after_free(void **state)
{
	struct fixture *f = *state;
	watch_module(f, MAIN_MOD, "__main__");
	watch_container(f, PYWATCH_GLOBAL_LIST, ITEMS, "ITEMS");
	acc(f, T1, ITEMS, PYOP_WRITE, NULL, CODE_1);
	unwatch(f, ITEMS);
	acc(f, T2, ITEMS, PYOP_WRITE, NULL, CODE_2);
	assert_int_equal(f->h.nraces, 0);
}

/* Set elements are keys: distinct elements do not conflict, the same element does even when
 * the probe saw its str before and after the set hashed it; clear() is whole-set. */
static void test_set_elements_are_keys(void **state)
{
	struct fixture *f = *state;
	watch_module(f, MAIN_MOD, "__main__");
	watch_container(f, PYWATCH_GLOBAL_SET, SEEN, "SEEN");
	uint32_t var = var_at(&f->h, SEEN);
	assert_int_equal(f->h.vars[var].kind, HB_VAR_GLOBAL_SET);
	acc_element(f, T1, PYOP_WRITE, "a", (uint64_t)-1);
	acc_element(f, T2, PYOP_WRITE, "b", (uint64_t)-1);
	assert_int_equal(f->h.nraces, 0);
	acc_element(f, T2, PYOP_READ, "a", str_id("a"));
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var, "a", PYOP_READ, T2, PYOP_WRITE, T1);
	acc_element(f, T3, PYOP_DELETE, "b", 12345);
	assert_int_equal(f->h.nraces, 2);
	check_race(&f->h, 1, var, "b", PYOP_DELETE, T3, PYOP_WRITE, T2);
	size_t n = f->h.nraces;
	acc(f, T4, SEEN, PYOP_CLEAR, NULL, CODE_4);
	assert_true(f->h.nraces > n);
	assert_int_equal(f->h.races[n].current.op, PYOP_CLEAR);
	/* two reads of one element, or iterations, never race */
	n = f->h.nraces;
	acc_element(f, T1, PYOP_READ, "z", 1);
	acc_element(f, T2, PYOP_READ, "z", 2);
	acc(f, T1, SEEN, PYOP_ITERATE, NULL, 0);
	acc(f, T2, SEEN, PYOP_ITERATE, NULL, 0);
	assert_int_equal(f->h.nraces, n + 2); /* both iterations against T4's clear only */
}

/* Iteration and copy read every key: a key write unordered with them races, on that key; an
 * iteration against a clear is whole against whole; iterations do not race with each other. */
static void test_iteration_reads_every_key(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	uint32_t var = var_at(&f->h, CACHE);
	acc(f, T1, CACHE, PYOP_WRITE, "old", CODE_1);
	acc(f, T2, CACHE, PYOP_ITERATE, NULL, CODE_2);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var, "old", PYOP_ITERATE, T2, PYOP_WRITE, T1);
	acc(f, T3, CACHE, PYOP_ITERATE, NULL, CODE_3);
	assert_int_equal(f->h.nraces, 2); /* T3 against T1's write only: reads never race */
	check_race(&f->h, 1, var, "old", PYOP_ITERATE, T3, PYOP_WRITE, T1);
	acc(f, T4, CACHE, PYOP_WRITE, "new", CODE_4);
	assert_int_equal(f->h.nraces, 4); /* the new key against both iterations */
	check_race(&f->h, 2, var, "new", PYOP_WRITE, T4, PYOP_ITERATE, T2);
	check_race(&f->h, 3, var, "new", PYOP_WRITE, T4, PYOP_ITERATE, T3);
	acc(f, T1, CACHE, PYOP_CLEAR, NULL, CODE_1);
	int whole = 0;
	for (size_t i = 4; i < f->h.nraces; i++)
		whole +=
		    f->h.races[i].shadow == UINT32_MAX && f->h.races[i].previous.op == PYOP_ITERATE;
	assert_int_equal(whole, 2);
	assert_true(hb_op_is_write(PYOP_CLEAR) && !hb_op_is_write(PYOP_ITERATE));
}

/* One report per pair of locations for a whole-dict operation against many keys, not one per
 * key: an iteration racing with the insertion of 200 keys is one race seen 200 times. */
static void test_whole_dict_race_one_report_per_locations(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_ITERATE, NULL, CODE_1);
	char key[16];
	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof key, "k%d", i);
		acc(f, T2, CACHE, PYOP_WRITE, key, CODE_2);
	}
	assert_int_equal(f->h.nraces, 1);
	assert_int_equal(f->h.races[0].occurrences, 200);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k0", PYOP_WRITE, T2, PYOP_ITERATE, T1);
	/* per-key races still count per key */
	acc(f, T3, CACHE, PYOP_WRITE, "k1", CODE_3);
	acc(f, T3, CACHE, PYOP_WRITE, "k2", CODE_3);
	/* T3 against T2 per key (2), against the iteration once for both keys (1) */
	assert_int_equal(f->h.nraces, 1 + 2 + 1);
}

static void test_iteration_ordered_by_lock(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acquire(f, T1, LOCK_A);
	acc(f, T1, CACHE, PYOP_ITERATE, NULL, 0);
	release(f, T1, LOCK_A);
	acquire(f, T2, LOCK_A);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	acc(f, T2, CACHE, PYOP_CLEAR, NULL, 0);
	release(f, T2, LOCK_A);
	assert_int_equal(f->h.nraces, 0);
}

static void test_clear_ordered_by_lock(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acquire(f, T1, LOCK_A);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acc(f, T1, CACHE, PYOP_CLEAR, NULL, 0);
	release(f, T1, LOCK_A);
	acquire(f, T2, LOCK_A);
	acc(f, T2, CACHE, PYOP_CLEAR, NULL, 0);
	acc(f, T2, CACHE, PYOP_READ, "k", 0);
	release(f, T2, LOCK_A);
	assert_int_equal(f->h.nraces, 0);
}

/* ---- deduplication ----------------------------------------------------------------------- */

static void test_dedup_same_pair(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	for (int i = 0; i < 3; i++) {
		acc(f, T1, CACHE, PYOP_WRITE, "k", CODE_1);
		acc(f, T2, CACHE, PYOP_WRITE, "k", CODE_2);
	}
	/* 5 unordered write pairs (T1-T2 and T2-T1 alike), one source-location pair */
	assert_int_equal(f->h.nraces, 1);
	assert_int_equal(f->h.races[0].occurrences, 5);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, T1);
	const struct stack_entry *s = code_table_stack(&f->code, f->h.races[0].current.stack);
	assert_non_null(s);
	assert_int_equal(s->nframes, 1);
	assert_int_equal(f->code.frames[s->offset].code, CODE_2);
	/* another pair of locations is another race */
	acc(f, T3, CACHE, PYOP_WRITE, "k", CODE_3);
	assert_int_equal(f->h.nraces, 2);
	assert_int_equal(f->h.races[1].occurrences, 1);
	/* the same locations on another key are another race */
	acc(f, T1, CACHE, PYOP_WRITE, "other", CODE_1);
	acc(f, T2, CACHE, PYOP_WRITE, "other", CODE_2);
	assert_int_equal(f->h.nraces, 3);
}

/* With no frames both stacks are empty, so every race on one key has the same location pair:
 * write-write, write-read and read-write between any threads fold into the first race found. */
static void test_dedup_without_frames(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acc(f, T2, CACHE, PYOP_READ, "k", 0);  /* write-read */
	acc(f, T3, CACHE, PYOP_WRITE, "k", 0); /* write-write with T1, read-write with T2 */
	assert_int_equal(f->h.nraces, 1);
	assert_int_equal(f->h.races[0].occurrences, 3);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_READ, T2, PYOP_WRITE, T1);
	assert_int_equal(f->h.races[0].current.stack, 0);
	assert_int_equal(f->h.races[0].previous.stack, 0);
	/* a frameless race on another key is not folded into it */
	acc(f, T1, CACHE, PYOP_WRITE, "j", 0);
	acc(f, T2, CACHE, PYOP_WRITE, "j", 0);
	assert_int_equal(f->h.nraces, 2);
	/* but a race with a frame is a distinct location pair on the same key */
	acc(f, T4, CACHE, PYOP_WRITE, "k", CODE_1);
	assert_int_equal(f->h.nraces, 3);
}

/* Runs python3 to compile `src` and returns the function `func`'s code object data: first
 * line, qualname, co_linetable, and the source line of each code unit (co_positions). */
struct pyfunc {
	int first_line;
	char qualname[128];
	uint8_t table[8192];
	uint32_t table_len;
	int lines[8192];
	size_t nunits;
};

static void python_function(const char *file, const char *src, const char *func, struct pyfunc *out)
{
	static const char script[] =
	    "python3 - <<'EOF'\n"
	    "import os\n"
	    "co = compile(os.environ['PYRACE_T_SRC'], os.environ['PYRACE_T_FILE'], 'exec')\n"
	    "f = [c for c in co.co_consts if hasattr(c, 'co_linetable')\n"
	    "     and c.co_name == os.environ['PYRACE_T_FUNC']][0]\n"
	    "print(f.co_firstlineno, f.co_qualname, f.co_linetable.hex())\n"
	    "for p in f.co_positions():\n"
	    "    print(-1 if p[0] is None else p[0])\n"
	    "EOF\n";
	memset(out, 0, sizeof(*out));
	setenv("PYRACE_T_SRC", src, 1);
	setenv("PYRACE_T_FILE", file, 1);
	setenv("PYRACE_T_FUNC", func, 1);
	FILE *p = popen(script, "r");
	assert_non_null(p);
	static char hex[2 * 8192 + 2];
	assert_int_equal(fscanf(p, "%d %127s %16385s", &out->first_line, out->qualname, hex), 3);
	size_t n = strlen(hex) / 2;
	assert_true(n < sizeof(out->table));
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out->table[i] = (uint8_t)v;
	}
	out->table_len = (uint32_t)n;
	while (out->nunits < 8192 && fscanf(p, "%d", &out->lines[out->nunits]) == 1)
		out->nunits++;
	assert_int_equal(pclose(p), 0);
	assert_true(out->nunits > 0);
}

/* The first code unit on source line `line`. */
static uint32_t unit_on_line(const struct pyfunc *fn, int line)
{
	for (size_t i = 0; i < fn->nunits; i++)
		if (fn->lines[i] == line)
			return (uint32_t)i;
	fail_msg("no code unit on line %d", line);
	return 0;
}

static void acc_at(struct fixture *f, uint32_t tid, uint8_t op, const char *key, uint64_t code,
		   uint32_t instr)
{
	struct pyrace_event e = event(f, PYEV_ACCESS, op, tid, CACHE, 0);
	set_text(&e, key);
	add_frame(&e, code, instr);
	feed(f, &e);
}

/* Deduplication is by innermost (file, line), not by code address or thread. */
static void test_dedup_by_source_location(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	static const char src[] = "CACHE = {}\n"
				  "def worker(k):\n"
				  "    CACHE[k] = 1\n"
				  "    CACHE[k] = 2\n";
	struct pyfunc fn;
	python_function("/srv/app.py", src, "worker", &fn);
	uint32_t on3 = unit_on_line(&fn, 3), on4 = unit_on_line(&fn, 4);
	/* two code objects of the same source (a reloaded module), one of another file */
	add_code(f, CODE_1, "/srv/app.py", fn.qualname, fn.first_line, fn.table, fn.table_len);
	add_code(f, CODE_2, "/srv/app.py", fn.qualname, fn.first_line, fn.table, fn.table_len);
	add_code(f, CODE_3, "/srv/other.py", fn.qualname, fn.first_line, fn.table, fn.table_len);
	assert_int_equal(code_entry_line(code_table_get(&f->code, CODE_1), on3), 3);
	assert_int_equal(code_entry_line(code_table_get(&f->code, CODE_1), on4), 4);

	acc_at(f, T1, PYOP_WRITE, "k", CODE_1, on3);
	acc_at(f, T2, PYOP_WRITE, "k", CODE_1, on3);
	assert_int_equal(f->h.nraces, 1);
	acc_at(f, T3, PYOP_WRITE, "k", CODE_2, on3); /* same file and line, other code object */
	assert_int_equal(f->h.nraces, 1);
	assert_int_equal(f->h.races[0].occurrences, 2);
	acc_at(f, T4, PYOP_WRITE, "k", CODE_1, on4); /* another line */
	assert_int_equal(f->h.nraces, 2);
	acc_at(f, T1, PYOP_WRITE, "k", CODE_3, on3); /* another file */
	assert_int_equal(f->h.nraces, 3);
	/* the pair is unordered: (line 4, line 3) is the same pair as (line 3, line 4) */
	acc_at(f, T2, PYOP_WRITE, "j", CODE_1, on4);
	acc_at(f, T3, PYOP_WRITE, "j", CODE_1, on3);
	acc_at(f, T4, PYOP_WRITE, "j", CODE_2, on4);
	size_t j_races = 0;
	uint64_t j_occurrences = 0;
	for (size_t i = 0; i < f->h.nraces; i++) {
		const struct hb_race *r = &f->h.races[i];
		if (strcmp(f->h.shadows[r->shadow].key_text, "j") == 0) {
			j_races++;
			j_occurrences += r->occurrences;
		}
	}
	assert_int_equal(j_races, 1);
	assert_int_equal(j_occurrences, 2);
}

/* ---- watched set ------------------------------------------------------------------------- */

static void test_unwatch_new_incarnation(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	uint32_t first = var_at(&f->h, CACHE);
	size_t shadows = f->h.nshadows;
	unwatch(f, CACHE);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0); /* no longer watched: ignored */
	assert_int_equal(f->h.nshadows, shadows);
	watch_global(f, CACHE, MAIN_MOD, "CACHE");
	uint32_t second = var_at(&f->h, CACHE);
	assert_int_not_equal(first, second);
	assert_int_equal(f->h.nvars, 3);
	acc(f, T3, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	/* control: the new incarnation has races of its own */
	acc(f, T4, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, second, "k", PYOP_WRITE, T4, PYOP_WRITE, T3);
}

/* A global dict whose module is not watched is not watched either. */
static void test_global_dict_needs_module(void **state)
{
	struct fixture *f = *state;
	watch_global(f, CACHE, MAIN_MOD, "CACHE");
	assert_int_equal(f->h.nvars, 0);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
}

static void test_runtime_module_ignored(void **state)
{
	struct fixture *f = *state;
	const uint64_t thr = 0x50000, thr_active = 0x51000, near = 0x52000;
	watch_module(f, thr, "threading");
	watch_global(f, thr_active, thr, "_active");
	watch_module(f, near, "threadingx");
	acc(f, T1, thr, PYOP_WRITE, "_counter", 0);
	acc(f, T2, thr, PYOP_WRITE, "_counter", 0);
	acc(f, T1, thr_active, PYOP_WRITE, "k", 0);
	acc(f, T2, thr_active, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	assert_true(f->h.vars[var_at(&f->h, thr)].ignored);
	assert_true(f->h.vars[var_at(&f->h, thr_active)].ignored);
	/* control: a module whose name only starts like it is reported */
	acc(f, T1, near, PYOP_WRITE, "_counter", 0);
	acc(f, T2, near, PYOP_WRITE, "_counter", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, near), "_counter", PYOP_WRITE, T2, PYOP_WRITE, T1);
}

/* Regression (fixed): hb.c on_access() returns at `if (!v || v->ignored) return;` before it records
 * binding_by_obj, and threading's module dict is ignored (a runtime module), so a lock stored
 * into threading._active_limbo_lock / _shutdown_locks_lock is never bound to that name and
 * lock_of() never marks it ignored: it synchronises like any lock. */
static void test_threading_bookkeeping_locks_do_not_sync(void **state)
{
	const char *names[] = {"_active_limbo_lock", "_shutdown_locks_lock"};
	for (size_t i = 0; i < 2; i++) {
		struct fixture *f = *state;
		const uint64_t thr = 0x50000;
		watch_main(f);
		watch_module(f, thr, "threading");
		store(f, MAIN, thr, names[i], LOCK_C);
		acquire(f, T1, LOCK_C);
		acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
		release(f, T1, LOCK_C);
		acquire(f, T2, LOCK_C);
		acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
		release(f, T2, LOCK_C);
		assert_int_equal(f->h.nraces, 1);
		check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, T1);
		assert_true(f->h.locks[lock_index(&f->h, LOCK_C)].ignored);
		teardown(state);
		assert_int_equal(setup(state), 0);
	}
}

/* The same names elsewhere are ordinary locks, named after where they are stored. */
static void test_bound_lock_elsewhere_syncs(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	store(f, MAIN, MAIN_MOD, "_active_limbo_lock", LOCK_C);
	acquire(f, T1, LOCK_C);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	release(f, T1, LOCK_C);
	acquire(f, T2, LOCK_C);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	release(f, T2, LOCK_C);
	assert_int_equal(f->h.nraces, 0);
	const struct hb_lock *l = &f->h.locks[lock_index(&f->h, LOCK_C)];
	assert_false(l->ignored);
	assert_true(l->binding >= 0);
	const struct hb_shadow *s = &f->h.shadows[l->binding];
	assert_string_equal(s->key_text, "_active_limbo_lock");
	assert_int_equal(s->var, var_at(&f->h, MAIN_MOD));
}

static void test_sys_modules_publication(void **state)
{
	struct fixture *f = *state;
	const uint64_t sys_mod = 0x60000, sys_modules = 0x61000;
	watch_main(f);
	watch_module(f, sys_mod, "sys");
	watch_global(f, sys_modules, sys_mod, "modules");
	uint32_t var = var_at(&f->h, sys_modules);
	assert_true(f->h.vars[var].publication);
	assert_false(f->h.vars[var].ignored);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0); /* the module body runs */
	acc(f, T1, sys_modules, PYOP_WRITE, "mod", 0);
	acc(f, T2, sys_modules, PYOP_READ, "mod", 0); /* a later import finds it */
	acc(f, T2, CACHE, PYOP_READ, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	/* sys.modules accesses never race themselves */
	acc(f, T3, sys_modules, PYOP_WRITE, "mod", 0);
	acc(f, T4, sys_modules, PYOP_CLEAR, NULL, 0);
	assert_int_equal(f->h.nraces, 0);
	/* control: reading another module's entry acquires nothing */
	acc(f, T4, sys_modules, PYOP_READ, "other", 0);
	acc(f, T4, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1); /* with T1's write and T2's read, folded (no frames) */
	assert_int_equal(f->h.races[0].occurrences, 2);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T4, PYOP_WRITE, T1);
}

/* Only sys.modules publishes: a dict named "modules" elsewhere is ordinary. */
static void test_modules_elsewhere_not_publication(void **state)
{
	struct fixture *f = *state;
	const uint64_t modules = 0x61000;
	watch_main(f);
	watch_global(f, modules, MAIN_MOD, "modules");
	assert_false(f->h.vars[var_at(&f->h, modules)].publication);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acc(f, T1, modules, PYOP_WRITE, "mod", 0);
	acc(f, T2, modules, PYOP_READ, "mod", 0);
	acc(f, T2, CACHE, PYOP_READ, "k", 0);
	assert_int_equal(f->h.nraces, 2);
}

/* ---- lock lifetime and held locks -------------------------------------------------------- */

static void test_lock_freed_forgets_clock(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acquire(f, T1, LOCK_A);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	release(f, T1, LOCK_A);
	acquire(f, T3, LOCK_A);
	acc(f, T3, CACHE, PYOP_WRITE, "k", 0);
	release(f, T3, LOCK_A);
	assert_int_equal(f->h.nraces, 0);
	uint32_t old = lock_index(&f->h, LOCK_A);
	sync_ev(f, T3, PYSYNC_LOCK_FREED, LOCK_A, 0);
	/* a new lock at the same address */
	acquire(f, T2, LOCK_A);
	assert_int_not_equal(lock_index(&f->h, LOCK_A), old);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, T3);
}

/* Regression (fixed): hb.c forget_lock() removes the lock from lock_by_addr but leaves
 * binding_by_obj[addr], so lock_of() binds a new lock at the same address to the global the dead
 * lock was stored in: reports name it after a variable it never was in (and, were the threading
 * rule applied, it would inherit `ignored` too). */
static void test_lock_freed_forgets_binding(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	store(f, MAIN, MAIN_MOD, "LOCK", LOCK_A);
	acquire(f, T1, LOCK_A);
	release(f, T1, LOCK_A);
	assert_true(f->h.locks[lock_index(&f->h, LOCK_A)].binding >= 0);
	sync_ev(f, T1, PYSYNC_LOCK_FREED, LOCK_A, 0);
	acquire(f, T2, LOCK_A); /* a new lock, never stored anywhere */
	assert_int_equal(f->h.locks[lock_index(&f->h, LOCK_A)].binding, -1);
}

/* A lock freed while held is no longer held. */
static void test_lock_freed_while_held(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acquire(f, T1, LOCK_A);
	acquire(f, T1, LOCK_B);
	sync_ev(f, T1, PYSYNC_LOCK_FREED, LOCK_A, 0);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	uint64_t held[4];
	assert_int_equal(held_addrs(&f->h, last_write(&f->h, CACHE, "k")->lockset, held, 4), 1);
	assert_int_equal(held[0], LOCK_B);
}

/* ---- weak-value registries ---------------------------------------------------------------- */

static void registry_ev(struct fixture *f, uint32_t tid, uint8_t op, const char *key)
{
	struct pyrace_event e = event(f, PYEV_SYNC, op, tid, REGISTRY, 0);
	set_text(&e, key);
	feed(f, &e);
}

/* oslo.concurrency's lock registry: T1 writes under its semaphore for "k", lets go of it (the
 * entry dies), T2 finds none and makes a new semaphore for "k". */
static void test_registry_reinsert_orders(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	registry_ev(f, T1, PYSYNC_REGISTRY_REMOVE, "k");
	registry_ev(f, T2, PYSYNC_REGISTRY_INSERT, "k");
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 0);
	/* and again, from a third thread, after T2's entry died too */
	registry_ev(f, T2, PYSYNC_REGISTRY_REMOVE, "k");
	registry_ev(f, T3, PYSYNC_REGISTRY_INSERT, "k");
	acc(f, T3, CACHE, PYOP_READ, "k", 0);
	assert_int_equal(f->h.nraces, 0);
}

/* Only the same key of the same registry orders; a store with no removal before it does not. */
static void test_registry_other_key_does_not_order(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	registry_ev(f, T1, PYSYNC_REGISTRY_REMOVE, "a");
	registry_ev(f, T2, PYSYNC_REGISTRY_INSERT, "b");
	registry_ev(f, T2, PYSYNC_REGISTRY_INSERT, "k");
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, T1);
}

/* A registry dict that died takes its history along: a new dict at its address starts afresh. */
static void test_registry_freed_forgets(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	registry_ev(f, T1, PYSYNC_REGISTRY_REMOVE, "k");
	unwatch(f, REGISTRY);
	registry_ev(f, T2, PYSYNC_REGISTRY_INSERT, "k");
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
}

/* ---- --predict: weak causal precedence ----------------------------------------------------- */

/* A lock operation from user code (/srv/app.py), whose lock WCP may weaken. */
static void user_sync(struct fixture *f, uint32_t tid, uint8_t op, uint64_t lock)
{
	struct pyrace_event e = event(f, PYEV_SYNC, op, tid, lock, 0);
	add_frame(&e, CODE_4, 0);
	feed(f, &e);
}

static void predict_setup(struct fixture *f)
{
	hb_set_predict(&f->h, 1);
	watch_main(f);
	watch_global(f, OTHER, MAIN_MOD, "OTHER");
	add_code(f, CODE_4, "/srv/app.py", "audit", 10, NULL, 0);
}

/* The example: a lock whose sections share no variable orders two stores in this run
 * only; --predict reports them, marked predicted. */
static void test_predict_unrelated_lock(void **state)
{
	struct fixture *f = *state;
	predict_setup(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", CODE_1);
	user_sync(f, T1, PYSYNC_ACQUIRE, LOCK_A);
	user_sync(f, T1, PYSYNC_RELEASE, LOCK_A);
	user_sync(f, T2, PYSYNC_ACQUIRE, LOCK_A);
	user_sync(f, T2, PYSYNC_RELEASE, LOCK_A);
	acc(f, T2, CACHE, PYOP_WRITE, "k", CODE_2);
	assert_int_equal(f->h.nraces, 1);
	assert_true(f->h.races[0].predicted);
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, T1);
}

/* Sections that write a variable in common keep their order, and so does what follows. */
static void test_predict_conflicting_sections_order(void **state)
{
	struct fixture *f = *state;
	predict_setup(f);
	acc(f, T1, CACHE, PYOP_WRITE, "k", CODE_1);
	user_sync(f, T1, PYSYNC_ACQUIRE, LOCK_A);
	acc(f, T1, OTHER, PYOP_WRITE, "count", CODE_1);
	user_sync(f, T1, PYSYNC_RELEASE, LOCK_A);
	user_sync(f, T2, PYSYNC_ACQUIRE, LOCK_A);
	acc(f, T2, OTHER, PYOP_READ, "count", CODE_2);
	user_sync(f, T2, PYSYNC_RELEASE, LOCK_A);
	acc(f, T2, CACHE, PYOP_WRITE, "k", CODE_2);
	assert_int_equal(f->h.nraces, 0);
}

/* Thread start, queue hand-offs and locks taken from C (or the threading machinery) order in
 * every schedule, --predict or not. */
static void test_predict_strong_edges(void **state)
{
	struct fixture *f = *state;
	predict_setup(f);
	/* thread start, queue hand-off and join order in every schedule */
	acc(f, MAIN, CACHE, PYOP_WRITE, "a", CODE_1);
	sync_ev(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_1, 0);
	sync_ev(f, T1, PYSYNC_THREAD_BEGIN, BOOT_1, 0);
	acc(f, T1, CACHE, PYOP_WRITE, "a", CODE_2);
	sync_ev(f, T1, PYSYNC_QUEUE_PUT, QUEUE, ITEM_1);
	sync_ev(f, T2, PYSYNC_QUEUE_GET, QUEUE, ITEM_1);
	acc(f, T2, CACHE, PYOP_WRITE, "a", CODE_3);
	/* a lock without Python caller (C level) orders as in happens-before */
	acquire(f, T2, LOCK_B);
	release(f, T2, LOCK_B);
	acquire(f, T3, LOCK_B);
	release(f, T3, LOCK_B);
	acc(f, T3, CACHE, PYOP_WRITE, "a", CODE_4);
	assert_int_equal(f->h.nraces, 0);
}

/* Without --predict the same run reports nothing: the default mode is happens-before. */
static void test_predict_off_by_default(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	add_code(f, CODE_4, "/srv/app.py", "audit", 10, NULL, 0);
	acc(f, T1, CACHE, PYOP_WRITE, "k", CODE_1);
	user_sync(f, T1, PYSYNC_ACQUIRE, LOCK_A);
	user_sync(f, T1, PYSYNC_RELEASE, LOCK_A);
	user_sync(f, T2, PYSYNC_ACQUIRE, LOCK_A);
	user_sync(f, T2, PYSYNC_RELEASE, LOCK_A);
	acc(f, T2, CACHE, PYOP_WRITE, "k", CODE_2);
	assert_int_equal(f->h.nraces, 0);
}

/* The finalizer clears the modules' globals with no Python frame: not a race with a thread that
 * read them and was never joined. Its Python code (atexit handlers) still counts. */
static void test_finalizer_teardown_not_a_race(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acc(f, T1, MAIN_MOD, PYOP_READ, "time", CODE_1);
	struct pyrace_event e = event(f, PYEV_FINALIZE, 0, MAIN, 0, 0);
	feed(f, &e);
	acc(f, MAIN, MAIN_MOD, PYOP_WRITE, "time", 0); /* no frames: the finalizer */
	assert_int_equal(f->h.nraces, 0);
	acc(f, MAIN, MAIN_MOD, PYOP_WRITE, "time", CODE_2); /* an atexit handler */
	assert_int_equal(f->h.nraces, 1);
}

static void test_lockset(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	static const uint32_t dummy;
	const uint32_t *none = &dummy;
	assert_int_equal(hb_lockset(&f->h, 0, &none), 0);
	assert_null(none);
	acc(f, T1, CACHE, PYOP_WRITE, "free", 0);
	assert_int_equal(last_write(&f->h, CACHE, "free")->lockset, 0);

	acquire(f, T1, LOCK_A);
	acquire(f, T1, LOCK_B);
	acquire(f, T1, LOCK_B); /* RLock recursion */
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	uint64_t held[8];
	uint32_t k_set = last_write(&f->h, CACHE, "k")->lockset;
	assert_int_equal(held_addrs(&f->h, k_set, held, 8), 3);
	assert_int_equal(held[0], LOCK_A);
	assert_int_equal(held[1], LOCK_B);
	assert_int_equal(held[2], LOCK_B);
	/* equal sets are interned once */
	acc(f, T1, CACHE, PYOP_WRITE, "k2", 0);
	assert_int_equal(last_write(&f->h, CACHE, "k2")->lockset, k_set);

	release(f, T1, LOCK_B);
	acc(f, T1, CACHE, PYOP_WRITE, "j", 0);
	uint32_t j_set = last_write(&f->h, CACHE, "j")->lockset;
	assert_int_not_equal(j_set, k_set);
	assert_int_equal(held_addrs(&f->h, j_set, held, 8), 2);
	assert_int_equal(held[0], LOCK_A);
	assert_int_equal(held[1], LOCK_B);

	/* the same locks in another order are another set */
	acquire(f, T2, LOCK_B);
	acquire(f, T2, LOCK_A);
	acc(f, T2, CACHE, PYOP_WRITE, "i", 0);
	uint32_t i_set = last_write(&f->h, CACHE, "i")->lockset;
	assert_int_not_equal(i_set, j_set);
	assert_int_equal(held_addrs(&f->h, i_set, held, 8), 2);
	assert_int_equal(held[0], LOCK_B);
	assert_int_equal(held[1], LOCK_A);

	release(f, T1, LOCK_B);
	release(f, T1, LOCK_A);
	acc(f, T1, CACHE, PYOP_WRITE, "h", 0);
	assert_int_equal(last_write(&f->h, CACHE, "h")->lockset, 0);
}

/* A Lock released by another thread (Condition waiters, hand-off locks) is no longer held by the
 * thread that acquired it. */
static void test_release_by_other_thread(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	acquire(f, T1, LOCK_A);
	release(f, T2, LOCK_A);
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	acc(f, T2, CACHE, PYOP_WRITE, "k", 0);
	assert_int_equal(f->h.nraces, 1);
	const struct hb_race *r = &f->h.races[0];
	check_race(&f->h, 0, var_at(&f->h, CACHE), "k", PYOP_WRITE, T2, PYOP_WRITE, T1);
	assert_int_equal(r->previous.lockset, 0);
	assert_int_equal(r->current.lockset, 0);
	/* a thread's own release pops its own hold, not another holder's */
	acquire(f, T3, LOCK_B);
	acquire(f, T4, LOCK_B);
	release(f, T4, LOCK_B);
	acc(f, T3, CACHE, PYOP_WRITE, "j", 0);
	uint64_t held[4];
	assert_int_equal(held_addrs(&f->h, last_write(&f->h, CACHE, "j")->lockset, held, 4), 1);
	assert_int_equal(held[0], LOCK_B);
}

/* ---- counters ---------------------------------------------------------------------------- */

static void test_counters(void **state)
{
	struct fixture *f = *state;
	watch_main(f);				   /* 2 events, 1 global dict */
	watch_global(f, OTHER, MAIN_MOD, "OTHER"); /* 1 event, 1 global dict */
	acc(f, T1, CACHE, PYOP_WRITE, "k", 0);
	struct pyrace_event e = event(f, PYEV_ACCESS, PYOP_READ, T2, CACHE, 0);
	set_text(&e, "k");
	e.truncated = 1;
	add_frame(&e, CODE_1, 4);
	feed(f, &e);
	struct pyrace_event unknown = event(f, 200, 0, T3, 0, 0);
	feed(f, &unknown);
	assert_int_equal(f->h.events, 6);
	assert_int_equal(f->h.truncated_stacks, 1);
	assert_int_equal(f->h.watched_dicts, 2);
	assert_int_equal(f->h.nthreads, 2);
	assert_int_equal(f->h.nraces, 1);
	const struct stack_entry *s = code_table_stack(&f->code, f->h.races[0].current.stack);
	assert_non_null(s);
	assert_int_equal(s->truncated, 1);
	assert_int_equal(s->nframes, 1);
	assert_int_equal(f->code.frames[s->offset].instr, 4);
}

/* Long keys are cut to PYRACE_KEY_MAX bytes, never read past the event. */
static void test_long_key_text(void **state)
{
	struct fixture *f = *state;
	watch_main(f);
	char key[PYRACE_KEY_MAX + 10];
	memset(key, 'x', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	struct pyrace_event e = event(f, PYEV_ACCESS, PYOP_WRITE, T1, CACHE, 0);
	set_text(&e, key);
	e.key_len = 255; /* claims more than the buffer holds */
	feed(f, &e);
	const char *text = f->h.shadows[0].key_text;
	assert_int_equal(strlen(text), PYRACE_KEY_MAX);
	assert_memory_equal(text, key, PYRACE_KEY_MAX);
}

/* An event of process `number` (pid `pid`), its addresses tagged as the consumer tags them. */
static void proc_ev(struct fixture *f, uint16_t number, uint32_t pid, uint32_t tid, uint8_t type,
		    uint8_t op, uint64_t obj, uint64_t aux, const char *text, uint64_t site)
{
	struct pyrace_event e = event(f, type, op, tid, trace_tag_addr(number, obj),
				      aux ? trace_tag_addr(number, aux) : 0);
	e.pid = pid;
	e.process = number;
	if (text)
		set_text(&e, text);
	if (site)
		add_frame(&e, trace_tag_addr(number, site), 0);
	feed(f, &e);
}

static void proc_main(struct fixture *f, uint16_t number, uint32_t pid)
{
	proc_ev(f, number, pid, pid, PYEV_WATCH, PYWATCH_MODULE, MAIN_MOD, 0, "__main__", 0);
	proc_ev(f, number, pid, pid, PYEV_WATCH, PYWATCH_GLOBAL_DICT, CACHE, MAIN_MOD, "CACHE", 0);
}

/* A parent and its forked child hold the same dict at the same address: their accesses never
 * meet, and the same race in both is reported for each. */
static void test_processes_apart(void **state)
{
	struct fixture *f = *state;
	enum { CHILD = 5000, CHILD_T = 5001 };
	proc_main(f, 1, MAIN);
	proc_main(f, 2, CHILD);
	proc_ev(f, 1, MAIN, T1, PYEV_ACCESS, PYOP_WRITE, CACHE, 0, "a", CODE_1);
	proc_ev(f, 2, CHILD, CHILD_T, PYEV_ACCESS, PYOP_WRITE, CACHE, 0, "a", CODE_1);
	assert_int_equal(f->h.nraces, 0);
	/* the same race in both processes */
	proc_ev(f, 1, MAIN, T2, PYEV_ACCESS, PYOP_WRITE, CACHE, 0, "a", CODE_1);
	assert_int_equal(f->h.nraces, 1);
	proc_ev(f, 2, CHILD, CHILD, PYEV_ACCESS, PYOP_WRITE, CACHE, 0, "a", CODE_1);
	assert_int_equal(f->h.nraces, 2);
	assert_int_equal(f->h.races[0].process, 1);
	assert_int_equal(f->h.races[1].process, 2);
	const struct hb_thread *cur = &f->h.threads[f->h.races[1].current.thread];
	const struct hb_thread *prev = &f->h.threads[f->h.races[1].previous.thread];
	assert_int_equal(cur->pid, CHILD);
	assert_int_equal(prev->pid, CHILD);
	assert_int_equal(cur->ordinal, 0); /* the child's main thread */
	assert_int_equal(prev->ordinal, 1);
}

/* A tid seen in two processes (reused after the first ended) names two threads. */
static void test_tid_reused_across_processes(void **state)
{
	struct fixture *f = *state;
	proc_main(f, 1, MAIN);
	proc_main(f, 2, 5000);
	proc_ev(f, 1, MAIN, T1, PYEV_ACCESS, PYOP_WRITE, CACHE, 0, "a", CODE_1);
	proc_ev(f, 2, 5000, T1, PYEV_ACCESS, PYOP_WRITE, CACHE, 0, "a", CODE_1);
	assert_int_equal(f->h.nthreads, 2);
	assert_int_equal(f->h.threads[0].process, 1);
	assert_int_equal(f->h.threads[1].process, 2);
	assert_int_equal(f->h.nraces, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_write_write),
	    T(test_processes_apart),
	    T(test_tid_reused_across_processes),
	    T(test_read_write),
	    T(test_write_read),
	    T(test_reads_and_one_thread_do_not_race),
	    T(test_other_write_ops),
	    T(test_module_global),
	    T(test_distinct_keys),
	    T(test_int_keys),
	    T(test_lock_orders),
	    T(test_lock_orders_across_third_thread),
	    T(test_write_after_release),
	    T(test_two_locks_race),
	    T(test_thread_spawn_orders),
	    T(test_thread_exit_join),
	    T(test_thread_exit_without_join),
	    T(test_thread_handle_end_join),
	    T(test_reused_tid_is_new_thread),
	    T(test_sentinel_not_held),
	    T(test_sentinel_after_code_replaced),
	    T(test_queue_same_item_orders),
	    T(test_queue_other_item_does_not_order),
	    T(test_queue_same_item_twice),
	    T(test_clear_races_with_key_write),
	    T(test_whole_dict_ops),
	    T(test_list_is_one_variable),
	    T(test_list_unwatched_after_free),
	    T(test_set_elements_are_keys),
	    T(test_clear_ordered_by_lock),
	    T(test_iteration_reads_every_key),
	    T(test_iteration_ordered_by_lock),
	    T(test_dedup_same_pair),
	    T(test_dedup_without_frames),
	    T(test_dedup_by_source_location),
	    T(test_unwatch_new_incarnation),
	    T(test_global_dict_needs_module),
	    T(test_runtime_module_ignored),
	    T(test_threading_bookkeeping_locks_do_not_sync),
	    T(test_bound_lock_elsewhere_syncs),
	    T(test_sys_modules_publication),
	    T(test_modules_elsewhere_not_publication),
	    T(test_lock_freed_forgets_clock),
	    T(test_lock_freed_forgets_binding),
	    T(test_lock_freed_while_held),
	    T(test_whole_dict_race_one_report_per_locations),
	    T(test_predict_unrelated_lock),
	    T(test_predict_conflicting_sections_order),
	    T(test_predict_strong_edges),
	    T(test_predict_off_by_default),
	    T(test_finalizer_teardown_not_a_race),
	    T(test_registry_reinsert_orders),
	    T(test_registry_other_key_does_not_order),
	    T(test_registry_freed_forgets),
	    T(test_lockset),
	    T(test_release_by_other_thread),
	    T(test_counters),
	    T(test_long_key_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
