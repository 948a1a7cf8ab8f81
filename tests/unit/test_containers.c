/* Checks the containers under the analysis: u64map, vector clocks, code table stack interning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "code_table.h"
#include "trace_format.h"
#include "u64map.h"
#include "vclock.h"

/* Small deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* ---- u64map ------------------------------------------------------------------------------ */

enum { MANY = 100000 };

static uint64_t key_a(size_t i)
{
	return (uint64_t)i * 0x100000001b3ull;
}

static uint64_t key_b(size_t i)
{
	return ~(uint64_t)i;
}

static void test_u64map_empty(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	assert_null(u64map_get(&m, 0, 0));
	assert_null(u64map_get(&m, 1, 2));
	assert_int_equal(u64map_remove(&m, 1, 2), -1);
	assert_int_equal(m.count, 0);
	u64map_free(&m);
	u64map_free(&m); /* freeing twice is harmless: free resets */
	assert_null(m.slots);
}

static void test_u64map_many(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	for (size_t i = 0; i < MANY; i++) {
		int created = -1;
		uint64_t *v = u64map_put(&m, key_a(i), key_b(i), &created);
		assert_non_null(v);
		assert_int_equal(created, 1);
		assert_int_equal(*v, 0);
		*v = i * 3 + 1;
	}
	assert_int_equal(m.count, MANY);
	assert_true(m.count * 4 <= m.cap * 3); /* load factor kept */
	assert_int_equal(m.cap & (m.cap - 1), 0);
	for (size_t i = 0; i < MANY; i++) {
		uint64_t *v = u64map_get(&m, key_a(i), key_b(i));
		assert_non_null(v);
		assert_int_equal(*v, i * 3 + 1);
		int created = -1;
		assert_ptr_equal(u64map_put(&m, key_a(i), key_b(i), &created), v);
		assert_int_equal(created, 0);
	}
	/* absent keys: swapped halves, neighbours */
	for (size_t i = 0; i < 1000; i++) {
		assert_null(u64map_get(&m, key_b(i), key_a(i)));
		assert_null(u64map_get(&m, key_a(i), key_b(i) + 1));
		assert_null(u64map_get(&m, key_a(MANY + i), key_b(MANY + i)));
	}
	/* remove every other key */
	for (size_t i = 0; i < MANY; i += 2)
		assert_int_equal(u64map_remove(&m, key_a(i), key_b(i)), 0);
	assert_int_equal(m.count, MANY / 2);
	for (size_t i = 0; i < MANY; i++) {
		uint64_t *v = u64map_get(&m, key_a(i), key_b(i));
		if (i % 2 == 0) {
			assert_null(v);
			assert_int_equal(u64map_remove(&m, key_a(i), key_b(i)), -1);
		} else {
			assert_non_null(v);
			assert_int_equal(*v, i * 3 + 1);
		}
	}
	/* put them back: created again, value 0 */
	for (size_t i = 0; i < MANY; i += 2) {
		int created = -1;
		uint64_t *v = u64map_put(&m, key_a(i), key_b(i), &created);
		assert_non_null(v);
		assert_int_equal(created, 1);
		assert_int_equal(*v, 0);
		*v = i;
	}
	assert_int_equal(m.count, MANY);
	for (size_t i = 0; i < MANY; i++)
		assert_int_equal(*u64map_get(&m, key_a(i), key_b(i)), i % 2 ? i * 3 + 1 : i);
	u64map_free(&m);
}

/* A random mix of puts, removes and gets against a plain array model. */
static void test_u64map_random_against_model(void **state)
{
	(void)state;
	enum { KEYS = 2048, OPS = 200000 };
	static uint64_t model[KEYS];
	static int present[KEYS];
	memset(present, 0, sizeof(present));
	struct u64map m;
	u64map_init(&m);
	size_t count = 0;
	for (size_t op = 0; op < OPS; op++) {
		size_t k = rng() % KEYS;
		/* keys share a or b with many others */
		uint64_t a = k % 64, b = k / 64;
		switch (rng() % 3) {
		case 0: {
			int created;
			uint64_t *v = u64map_put(&m, a, b, &created);
			assert_non_null(v);
			assert_int_equal(created, !present[k]);
			if (!present[k])
				count++;
			present[k] = 1;
			model[k] = rng();
			*v = model[k];
			break;
		}
		case 1:
			assert_int_equal(u64map_remove(&m, a, b), present[k] ? 0 : -1);
			if (present[k])
				count--;
			present[k] = 0;
			break;
		default: {
			uint64_t *v = u64map_get(&m, a, b);
			if (present[k]) {
				assert_non_null(v);
				assert_int_equal(*v, model[k]);
			} else {
				assert_null(v);
			}
		}
		}
		assert_int_equal(m.count, count);
		assert_true(m.cap == 0 || m.count + m.tombstones < m.cap);
	}
	for (size_t k = 0; k < KEYS; k++) {
		uint64_t *v = u64map_get(&m, k % 64, k / 64);
		if (present[k])
			assert_int_equal(*v, model[k]);
		else
			assert_null(v);
	}
	u64map_free(&m);
}

/* Removing leaves a tombstone that a later insert reuses; churn never grows the table. */
static void test_u64map_tombstones(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	for (size_t i = 0; i < 40; i++)
		*u64map_put(&m, i, 0, NULL) = i + 100;
	size_t cap = m.cap;
	uint64_t *v = u64map_get(&m, 17, 0);
	assert_non_null(v);
	assert_int_equal(u64map_remove(&m, 17, 0), 0);
	assert_int_equal(m.tombstones, 1);
	/* the probe chains through the tombstone still find later keys */
	for (size_t i = 0; i < 40; i++) {
		if (i != 17)
			assert_int_equal(*u64map_get(&m, i, 0), i + 100);
	}
	int created;
	uint64_t *again = u64map_put(&m, 17, 0, &created);
	assert_int_equal(created, 1);
	assert_ptr_equal(again, v); /* the same slot */
	assert_int_equal(m.tombstones, 0);
	assert_int_equal(m.count, 40);

	/* insert-remove churn of fresh keys: tombstones are swept, the table stops growing (it
	 * may double once, 40 live keys in 64 slots being over half full) */
	for (size_t i = 0; i < 100000; i++) {
		if (i == 1000)
			cap = m.cap;
		assert_non_null(u64map_put(&m, 1000 + i, 7, NULL));
		assert_int_equal(u64map_remove(&m, 1000 + i, 7), 0);
		assert_true(m.count + m.tombstones < m.cap);
		assert_true(m.cap <= 128);
	}
	assert_int_equal(m.cap, cap);
	assert_int_equal(m.count, 40);
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(*u64map_get(&m, i, 0), i == 17 ? 0 : i + 100);
	u64map_free(&m);
}

/* Keys that agree in one half, swapped halves, and zero keys are all distinct. */
static void test_u64map_half_collisions(void **state)
{
	(void)state;
	struct u64map m;
	u64map_init(&m);
	const uint64_t pairs[][2] = {{0, 0},
				     {0, 1},
				     {1, 0},
				     {1, 1},
				     {UINT64_MAX, 0},
				     {0, UINT64_MAX},
				     {UINT64_MAX, UINT64_MAX},
				     {5, 9},
				     {9, 5},
				     {5, 5},
				     {9, 9},
				     {1ull << 63, 1},
				     {1, 1ull << 63},
				     {42, 42}};
	const size_t n = sizeof(pairs) / sizeof(pairs[0]);
	for (size_t i = 0; i < n; i++) {
		int created;
		*u64map_put(&m, pairs[i][0], pairs[i][1], &created) = i + 1;
		assert_int_equal(created, 1);
	}
	/* 64 keys sharing a, 64 sharing b */
	for (uint64_t i = 0; i < 64; i++) {
		*u64map_put(&m, 0xabc, 1000 + i, NULL) = 2000 + i;
		*u64map_put(&m, 1000 + i, 0xabc, NULL) = 3000 + i;
	}
	assert_int_equal(m.count, n + 128);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(*u64map_get(&m, pairs[i][0], pairs[i][1]), i + 1);
	for (uint64_t i = 0; i < 64; i++) {
		assert_int_equal(*u64map_get(&m, 0xabc, 1000 + i), 2000 + i);
		assert_int_equal(*u64map_get(&m, 1000 + i, 0xabc), 3000 + i);
	}
	assert_int_equal(u64map_remove(&m, 0, 1), 0);
	assert_null(u64map_get(&m, 0, 1));
	assert_int_equal(*u64map_get(&m, 1, 0), 3);
	assert_int_equal(*u64map_get(&m, 0, 0), 1);
	u64map_free(&m);
}

/* ---- vclock ------------------------------------------------------------------------------ */

enum { VC_MAX = 300 };

struct model_vc {
	uint32_t c[VC_MAX];
};

static void check_vc(const struct vclock *v, const struct model_vc *m)
{
	for (uint32_t i = 0; i < VC_MAX + 10; i++)
		assert_int_equal(vclock_get(v, i), i < VC_MAX ? m->c[i] : 0);
}

static void test_vclock_basics(void **state)
{
	(void)state;
	struct vclock v = {0}, w = {0};
	assert_int_equal(vclock_get(&v, 0), 0);
	assert_int_equal(vclock_get(&v, 1000), 0);
	assert_int_equal(vclock_set(&v, 2, 7), 0);
	assert_true(v.n >= 3);
	assert_int_equal(vclock_get(&v, 0), 0);
	assert_int_equal(vclock_get(&v, 1), 0);
	assert_int_equal(vclock_get(&v, 2), 7);
	assert_int_equal(vclock_set(&v, 1000, 1), 0); /* growth keeps what was there */
	assert_true(v.n >= 1001);
	assert_int_equal(vclock_get(&v, 2), 7);
	assert_int_equal(vclock_get(&v, 1000), 1);
	for (uint32_t i = 3; i < 1000; i++)
		assert_int_equal(vclock_get(&v, i), 0);

	/* join: component-wise max, the shorter side counts as zeros */
	assert_int_equal(vclock_set(&w, 0, 3), 0);
	assert_int_equal(vclock_set(&w, 2, 5), 0);
	assert_int_equal(vclock_join(&w, &v), 0);
	assert_int_equal(vclock_get(&w, 0), 3);
	assert_int_equal(vclock_get(&w, 2), 7);
	assert_int_equal(vclock_get(&w, 1000), 1);
	struct vclock empty = {0};
	assert_int_equal(vclock_join(&w, &empty), 0);
	assert_int_equal(vclock_get(&w, 0), 3);

	/* copy into a longer clock clears its tail; from an empty clock clears all */
	struct vclock s = {0};
	assert_int_equal(vclock_set(&s, 1, 9), 0);
	assert_int_equal(vclock_copy(&w, &s), 0);
	assert_int_equal(vclock_get(&w, 0), 0);
	assert_int_equal(vclock_get(&w, 1), 9);
	assert_int_equal(vclock_get(&w, 2), 0);
	assert_int_equal(vclock_get(&w, 1000), 0);
	/* copy into an empty clock grows it */
	struct vclock d = {0};
	assert_int_equal(vclock_copy(&d, &v), 0);
	assert_int_equal(vclock_get(&d, 2), 7);
	assert_int_equal(vclock_get(&d, 1000), 1);

	vclock_free(&v);
	assert_null(v.c);
	assert_int_equal(v.n, 0);
	vclock_free(&w);
	vclock_free(&s);
	vclock_free(&d);
	vclock_free(&empty);
}

/* Regression (fixed): vclock.c vclock_copy() calls memcpy(dst->c, src->c, 0) with src->c == NULL
 * when `src` is empty (and memset(NULL, 0, 0) when both are): undefined behaviour, which UBSan
 * aborts on. It runs in a child process so that the abort fails this test only. */
static void test_vclock_copy_empty(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vclock empty = {0}, w = {0}, e2 = {0};
		int bad = vclock_set(&w, 5, 3) != 0;
		bad |= vclock_copy(&w, &empty) != 0; /* from an empty clock: all zeros */
		for (uint32_t i = 0; i < 10; i++)
			bad |= vclock_get(&w, i) != 0;
		bad |= vclock_copy(&e2, &empty) != 0; /* empty into empty */
		bad |= vclock_get(&e2, 0) != 0;
		vclock_free(&w);
		vclock_free(&e2);
		_exit(bad ? 1 : 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Random sets, joins and copies over a few clocks against plain arrays. */
static void test_vclock_random_against_model(void **state)
{
	(void)state;
	enum { CLOCKS = 6, OPS = 20000 };
	struct vclock v[CLOCKS];
	static struct model_vc m[CLOCKS];
	memset(v, 0, sizeof(v));
	memset(m, 0, sizeof(m));
	/* never empty: copying from an empty clock is test_vclock_copy_empty */
	for (size_t i = 0; i < CLOCKS; i++)
		assert_int_equal(vclock_set(&v[i], 0, 0), 0);
	for (size_t op = 0; op < OPS; op++) {
		size_t x = rng() % CLOCKS, y = rng() % CLOCKS;
		switch (rng() % 4) {
		case 0:
		case 1: {
			/* mostly low indices, sometimes a jump (a thread appearing late) */
			uint32_t t =
			    rng() % 8 ? (uint32_t)(rng() % 16) : (uint32_t)(rng() % VC_MAX);
			uint32_t value = (uint32_t)(rng() % 1000);
			assert_int_equal(vclock_set(&v[x], t, value), 0);
			m[x].c[t] = value;
			break;
		}
		case 2:
			assert_int_equal(vclock_join(&v[x], &v[y]), 0);
			for (size_t i = 0; i < VC_MAX; i++)
				if (m[y].c[i] > m[x].c[i])
					m[x].c[i] = m[y].c[i];
			break;
		default:
			assert_int_equal(vclock_copy(&v[x], &v[y]), 0);
			m[x] = m[y];
			break;
		}
		if (op % 97 == 0)
			for (size_t i = 0; i < CLOCKS; i++)
				check_vc(&v[i], &m[i]);
	}
	for (size_t i = 0; i < CLOCKS; i++) {
		check_vc(&v[i], &m[i]);
		vclock_free(&v[i]);
	}
}

/* ---- code table: stacks ------------------------------------------------------------------ */

static void frames_of(struct pyrace_frame *f, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].code = 0x7f0000000000ull + seed * 0x1000 + i * 0x40;
		f[i].instr = (uint32_t)(seed * 7 + i);
	}
}

static void check_stack(const struct code_table *t, uint32_t id, const struct pyrace_frame *f,
			size_t n, int truncated)
{
	const struct stack_entry *s = code_table_stack(t, id);
	assert_non_null(s);
	assert_int_equal(s->nframes, n);
	assert_int_equal(s->truncated, truncated);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(t->frames[s->offset + i].code, f[i].code);
		assert_int_equal(t->frames[s->offset + i].instr, f[i].instr);
	}
}

static void test_stack_interning(void **state)
{
	(void)state;
	struct code_table t;
	code_table_init(&t);
	struct pyrace_frame a[PYRACE_MAX_FRAMES], b[PYRACE_MAX_FRAMES];
	frames_of(a, PYRACE_MAX_FRAMES, 1);
	memcpy(b, a, sizeof(a));

	assert_int_equal(code_table_intern_stack(&t, NULL, 0, 0), 0);
	assert_int_equal(code_table_intern_stack(&t, a, 0, 0), 0);
	check_stack(&t, 0, NULL, 0, 0);

	uint32_t full = code_table_intern_stack(&t, a, PYRACE_MAX_FRAMES, 0);
	assert_int_not_equal(full, 0);
	assert_int_not_equal(full, UINT32_MAX);
	assert_int_equal(code_table_intern_stack(&t, b, PYRACE_MAX_FRAMES, 0), full);
	check_stack(&t, full, a, PYRACE_MAX_FRAMES, 0);

	/* any difference is another stack */
	uint32_t ids[8];
	size_t nids = 0;
	ids[nids++] = full;
	ids[nids++] = code_table_intern_stack(&t, a, PYRACE_MAX_FRAMES, 1);	    /* truncated */
	ids[nids++] = code_table_intern_stack(&t, a, PYRACE_MAX_FRAMES - 1, 0);	    /* a prefix */
	ids[nids++] = code_table_intern_stack(&t, a + 1, PYRACE_MAX_FRAMES - 1, 0); /* a suffix */
	ids[nids++] = code_table_intern_stack(&t, a, 0, 1); /* no frames but truncated */
	b[5].instr++;
	ids[nids++] = code_table_intern_stack(&t, b, PYRACE_MAX_FRAMES, 0);
	b[5].instr--;
	b[PYRACE_MAX_FRAMES - 1].code += 0x40;
	ids[nids++] = code_table_intern_stack(&t, b, PYRACE_MAX_FRAMES, 0);
	for (size_t i = 0; i < nids; i++) {
		assert_int_not_equal(ids[i], 0);
		assert_int_not_equal(ids[i], UINT32_MAX);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
	}
	check_stack(&t, ids[1], a, PYRACE_MAX_FRAMES, 1);
	check_stack(&t, ids[2], a, PYRACE_MAX_FRAMES - 1, 0);
	check_stack(&t, ids[3], a + 1, PYRACE_MAX_FRAMES - 1, 0);
	check_stack(&t, ids[4], NULL, 0, 1);
	check_stack(&t, ids[6], b, PYRACE_MAX_FRAMES, 0);
	/* and each interns to itself again */
	assert_int_equal(code_table_intern_stack(&t, a, PYRACE_MAX_FRAMES, 1), ids[1]);
	assert_int_equal(code_table_intern_stack(&t, a, PYRACE_MAX_FRAMES - 1, 0), ids[2]);
	assert_int_equal(code_table_intern_stack(&t, a + 1, PYRACE_MAX_FRAMES - 1, 0), ids[3]);
	assert_int_equal(code_table_intern_stack(&t, a, 0, 1), ids[4]);
	assert_int_equal(code_table_intern_stack(&t, b, PYRACE_MAX_FRAMES, 0), ids[6]);
	assert_null(code_table_stack(&t, (uint32_t)t.nstacks));
	code_table_free(&t);
}

/* Regression (fixed): code_table.c code_table_intern_stack() compares a found stack with
 * memcmp(&t->frames[s->offset], frames, 0) even when it has no frames; when no stack with frames
 * was interned yet t->frames is NULL, so interning "no frames, truncated" twice as the first
 * stacks passes NULL to memcmp: undefined behaviour, which UBSan aborts on (reachable from a
 * trace whose event records are cut to their header but flagged truncated). Runs in a child. */
static void test_stack_interning_empty_truncated_first(void **state)
{
	(void)state;
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct code_table t;
		code_table_init(&t);
		struct pyrace_frame f[1];
		frames_of(f, 1, 3);
		uint32_t id = code_table_intern_stack(&t, f, 0, 1);
		int bad = id == 0 || id == UINT32_MAX;
		bad |= code_table_intern_stack(&t, f, 0, 1) != id;
		code_table_free(&t);
		_exit(bad ? 1 : 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Thousands of stacks: ids are dense, distinct per distinct stack, stable when interned again. */
static void test_stack_interning_many(void **state)
{
	(void)state;
	enum { STACKS = 5000 };
	struct code_table t;
	code_table_init(&t);
	static uint32_t ids[STACKS];
	struct pyrace_frame f[PYRACE_MAX_FRAMES];
	for (size_t i = 0; i < STACKS; i++) {
		size_t n = 1 + i % PYRACE_MAX_FRAMES;
		frames_of(f, n, i);
		ids[i] = code_table_intern_stack(&t, f, n, (int)(i % 3 == 0));
		assert_int_equal(ids[i], i + 1); /* new stacks get the next id */
	}
	assert_int_equal(t.nstacks, STACKS + 1);
	for (size_t i = 0; i < STACKS; i++) {
		size_t n = 1 + i % PYRACE_MAX_FRAMES;
		frames_of(f, n, i);
		assert_int_equal(code_table_intern_stack(&t, f, n, (int)(i % 3 == 0)), ids[i]);
		check_stack(&t, ids[i], f, n, i % 3 == 0);
	}
	assert_int_equal(t.nstacks, STACKS + 1);
	code_table_free(&t);
}

/* Two different stacks with the same hash (built by inverting the FNV-1a steps of hash_frames
 * in code_table.c) must still get different ids: the second goes to salt 1. */
static void test_stack_interning_hash_collision(void **state)
{
	(void)state;
	const uint64_t basis = 0xcbf29ce484222325ull, prime = 0x100000001b3ull;
	/* inverse of the prime modulo 2^64, by Newton's iteration */
	uint64_t inv = prime;
	for (int i = 0; i < 6; i++)
		inv *= 2 - prime * inv;
	assert_int_equal(prime * inv, 1);

	struct pyrace_frame x, y;
	memset(&x, 0, sizeof(x));
	memset(&y, 0, sizeof(y));
	x.code = 0x7f1234560000ull;
	x.instr = 10;
	/* after the code step both must differ only in the low 32 bits, which instr then cancels */
	uint64_t hx = (basis ^ x.code) * prime;
	uint64_t hy = hx ^ 0x5a5a5a5aull;
	y.code = (hy * inv) ^ basis;
	y.instr = x.instr ^ 0x5a5a5a5au;
	assert_int_not_equal(x.code, y.code);
	uint64_t full_x = ((hx ^ x.instr) * prime) ^ 1, full_y = ((hy ^ y.instr) * prime) ^ 1;
	assert_int_equal(full_x, full_y);

	struct code_table t;
	code_table_init(&t);
	uint32_t id_x = code_table_intern_stack(&t, &x, 1, 0);
	uint32_t id_y = code_table_intern_stack(&t, &y, 1, 0);
	assert_int_not_equal(id_x, id_y);
	/* the collision really happened: both live under the same hash, salts 0 and 1 */
	uint64_t *s0 = u64map_get(&t.by_hash, full_x, 0), *s1 = u64map_get(&t.by_hash, full_x, 1);
	assert_non_null(s0);
	assert_non_null(s1);
	assert_int_equal(*s0, id_x + 1);
	assert_int_equal(*s1, id_y + 1);
	assert_int_equal(code_table_intern_stack(&t, &x, 1, 0), id_x);
	assert_int_equal(code_table_intern_stack(&t, &y, 1, 0), id_y);
	check_stack(&t, id_x, &x, 1, 0);
	check_stack(&t, id_y, &y, 1, 0);
	code_table_free(&t);
}

/* ---- code table: code objects ------------------------------------------------------------ */

static void code_payload(struct trace_buf *b, uint64_t addr, const char *file, const char *name)
{
	trace_buf_reset(b);
	trace_put_u64(b, addr);
	trace_put_u32(b, 10);
	trace_put_str(b, file);
	trace_put_str(b, name);
	trace_put_bytes(b, NULL, 0);
	b->pos = 0;
}

static void test_code_entries(void **state)
{
	(void)state;
	struct code_table t;
	code_table_init(&t);
	struct trace_buf b = {0};
	code_payload(&b, 0x1000, "/a.py", "f");
	assert_int_equal(code_table_add(&t, &b), 0);
	code_payload(&b, 0x2000, "/b.py", "C.g");
	assert_int_equal(code_table_add(&t, &b), 0);
	const struct code_entry *e = code_table_get(&t, 0x1000);
	assert_non_null(e);
	assert_string_equal(e->file, "/a.py");
	assert_string_equal(e->qualname, "f");
	assert_int_equal(e->first_line, 10);
	assert_int_equal(code_entry_line(e, 0), -1); /* no line table */
	assert_string_equal(code_table_get(&t, 0x2000)->qualname, "C.g");
	assert_null(code_table_get(&t, 0x3000));
	/* a later record for the same address replaces the earlier one */
	code_payload(&b, 0x1000, "/c.py", "h");
	assert_int_equal(code_table_add(&t, &b), 0);
	assert_string_equal(code_table_get(&t, 0x1000)->file, "/c.py");
	assert_string_equal(code_table_get(&t, 0x1000)->qualname, "h");
	/* a cut payload is refused and adds nothing */
	size_t n = t.n;
	code_payload(&b, 0x4000, "/d.py", "k");
	for (size_t len = 0; len < b.len; len++) {
		struct trace_buf cut = {.data = b.data, .len = len};
		assert_int_equal(code_table_add(&t, &cut), -1);
	}
	assert_int_equal(t.n, n);
	assert_null(code_table_get(&t, 0x4000));
	trace_buf_free(&b);
	code_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u64map_empty),
	    cmocka_unit_test(test_u64map_many),
	    cmocka_unit_test(test_u64map_random_against_model),
	    cmocka_unit_test(test_u64map_tombstones),
	    cmocka_unit_test(test_u64map_half_collisions),
	    cmocka_unit_test(test_vclock_basics),
	    cmocka_unit_test(test_vclock_copy_empty),
	    cmocka_unit_test(test_vclock_random_against_model),
	    cmocka_unit_test(test_stack_interning),
	    cmocka_unit_test(test_stack_interning_empty_truncated_first),
	    cmocka_unit_test(test_stack_interning_many),
	    cmocka_unit_test(test_stack_interning_hash_collision),
	    cmocka_unit_test(test_code_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
