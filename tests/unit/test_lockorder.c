/* Lock-order inversions: synthetic event sequences through hb_event, then the cycles found; and
 * the report side (ids, text, JSON, suppressions) of a deadlock. */
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
#include "report.h"
#include "suppressions.h"

enum {
	MAIN = 5000,
	T1 = 5001,
	T2 = 5002,
	T3 = 5003,
};

#define LOCK_A	 0xa0000ull
#define LOCK_B	 0xb0000ull
#define LOCK_C	 0xc0000ull
#define GATE	 0xd0000ull
#define WAITER	 0xd8000ull
#define SENTINEL 0xe0000ull
#define BOOT_1	 0xe1000ull
#define BOOT_2	 0xe2000ull
#define QUEUE	 0xf0000ull
#define ITEM	 0xf1000ull

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

/* A sync event; `site` (non-zero) is the code address of its only frame, which tells the
 * acquisitions apart in the edges' stacks. */
static void sync_at(struct fixture *f, uint32_t tid, uint8_t op, uint64_t obj, uint64_t aux,
		    uint64_t site)
{
	struct pyrace_event e;
	memset(&e, 0, sizeof(e));
	e.ts_ns = ++f->ts;
	e.pid = MAIN;
	e.tid = tid;
	e.type = PYEV_SYNC;
	e.op = op;
	e.obj = obj;
	e.aux = aux;
	if (site) {
		e.frames[0].code = site;
		e.nframes = 1;
	}
	hb_event(&f->h, &e);
}

static void acquire(struct fixture *f, uint32_t tid, uint64_t lock)
{
	sync_at(f, tid, PYSYNC_ACQUIRE, lock, 0, 0x7000000ull + lock);
}

static void release(struct fixture *f, uint32_t tid, uint64_t lock)
{
	sync_at(f, tid, PYSYNC_RELEASE, lock, 0, 0);
}

/* `with first: with second: pass` in thread tid. */
static void nested(struct fixture *f, uint32_t tid, uint64_t first, uint64_t second)
{
	acquire(f, tid, first);
	acquire(f, tid, second);
	release(f, tid, second);
	release(f, tid, first);
}

static size_t cycles(struct fixture *f, struct lockorder_cycle *out)
{
	return lockorder_cycles(&f->h.order, out, LOCKORDER_MAX_CYCLES);
}

static uint64_t addr_of(const struct fixture *f, uint32_t lock)
{
	assert_true(lock < f->h.nlocks);
	return f->h.locks[lock].addr;
}

static const struct lockorder_edge *edge(const struct fixture *f, const struct lockorder_cycle *c,
					 size_t i)
{
	assert_true(i < c->n);
	return &f->h.order.edges[c->edges[i]];
}

static uint32_t tid_of(const struct fixture *f, uint32_t thread)
{
	return f->h.threads[thread].tid;
}

/* The innermost frame of an interned stack. */
static uint64_t site_of(const struct fixture *f, uint32_t stack)
{
	const struct stack_entry *s = code_table_stack(&f->code, stack);
	assert_non_null(s);
	assert_int_equal(s->nframes, 1);
	return f->code.frames[s->offset].code;
}

/* ---- the graph ---------------------------------------------------------------------------- */

/* Classic inversion, in a run where it did not deadlock: T2 takes B only after T1 let go of it,
 * an ordering through B itself that the other schedule undoes. */
static void test_ab_ba_reported(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	nested(f, T1, LOCK_A, LOCK_B);
	nested(f, T2, LOCK_B, LOCK_A);
	assert_int_equal(cycles(f, c), 1);
	assert_int_equal(c[0].n, 2);
	const struct lockorder_edge *ab = edge(f, &c[0], 0), *ba = edge(f, &c[0], 1);
	assert_int_equal(addr_of(f, ab->from), LOCK_A);
	assert_int_equal(addr_of(f, ab->to), LOCK_B);
	assert_int_equal(tid_of(f, ab->thread), T1);
	assert_int_equal(site_of(f, ab->from_stack), 0x7000000ull + LOCK_A);
	assert_int_equal(site_of(f, ab->to_stack), 0x7000000ull + LOCK_B);
	assert_int_equal(addr_of(f, ba->from), LOCK_B);
	assert_int_equal(addr_of(f, ba->to), LOCK_A);
	assert_int_equal(tid_of(f, ba->thread), T2);
	assert_int_equal(ab->occurrences, 1);
}

static void test_same_order_not_reported(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	nested(f, T1, LOCK_A, LOCK_B);
	nested(f, T2, LOCK_A, LOCK_B);
	nested(f, T1, LOCK_A, LOCK_B);
	assert_int_equal(cycles(f, c), 0);
	assert_int_equal(f->h.order.nedges, 2); /* one per thread */
	assert_int_equal(f->h.order.edges[0].occurrences, 2);
}

/* One thread taking both orders cannot deadlock with itself. */
static void test_single_thread_not_reported(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	nested(f, T1, LOCK_A, LOCK_B);
	nested(f, T1, LOCK_B, LOCK_A);
	assert_int_equal(cycles(f, c), 0);
	/* control: another thread taking one of the orders makes it a deadlock */
	nested(f, T2, LOCK_B, LOCK_A);
	assert_int_equal(cycles(f, c), 1);
}

/* T2 starts only after T1 was joined: their edges never overlap. */
static void test_ordered_by_join_dropped(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	sync_at(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_1, 0, 0);
	sync_at(f, T1, PYSYNC_THREAD_BEGIN, BOOT_1, 0, 0);
	nested(f, T1, LOCK_A, LOCK_B);
	sync_at(f, T1, PYSYNC_THREAD_EXIT, SENTINEL, 0, 0);
	acquire(f, MAIN, SENTINEL); /* join() */
	release(f, MAIN, SENTINEL);
	sync_at(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_2, 0, 0);
	sync_at(f, T2, PYSYNC_THREAD_BEGIN, BOOT_2, 0, 0);
	nested(f, T2, LOCK_B, LOCK_A);
	assert_int_equal(cycles(f, c), 0);
}

/* Started before the join: the two threads overlap, and the inversion stands. */
static void test_started_before_join_reported(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	sync_at(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_1, 0, 0);
	sync_at(f, T1, PYSYNC_THREAD_BEGIN, BOOT_1, 0, 0);
	sync_at(f, MAIN, PYSYNC_THREAD_SPAWN, BOOT_2, 0, 0);
	sync_at(f, T2, PYSYNC_THREAD_BEGIN, BOOT_2, 0, 0);
	nested(f, T1, LOCK_A, LOCK_B);
	sync_at(f, T1, PYSYNC_THREAD_EXIT, SENTINEL, 0, 0);
	acquire(f, MAIN, SENTINEL);
	nested(f, T2, LOCK_B, LOCK_A);
	assert_int_equal(cycles(f, c), 1);
}

/* Condition.wait: the notifier releases the waiter lock its waiter holds; the waiter's next
 * acquire of it comes after everything the notifier did, in every schedule. */
static void test_ordered_by_notify_dropped(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	acquire(f, T2, WAITER);
	nested(f, T1, LOCK_A, LOCK_B);
	release(f, T1, WAITER); /* notify */
	acquire(f, T2, WAITER); /* wait returns */
	nested(f, T2, LOCK_B, LOCK_A);
	assert_int_equal(cycles(f, c), 0);
}

static void test_ordered_by_queue_dropped(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	nested(f, T1, LOCK_A, LOCK_B);
	sync_at(f, T1, PYSYNC_QUEUE_PUT, QUEUE, ITEM, 0);
	sync_at(f, T2, PYSYNC_QUEUE_GET, QUEUE, ITEM, 0);
	nested(f, T2, LOCK_B, LOCK_A);
	assert_int_equal(cycles(f, c), 0);
	/* control: what T1 does after the put is not ordered before T2 */
	nested(f, T1, LOCK_C, LOCK_B);
	nested(f, T2, LOCK_B, LOCK_C);
	assert_int_equal(cycles(f, c), 1);
}

/* A gate lock held around both orders lets one thread at a time between its acquisitions. */
static void test_gate_lock_dropped(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	acquire(f, T1, GATE);
	nested(f, T1, LOCK_A, LOCK_B);
	release(f, T1, GATE);
	acquire(f, T2, GATE);
	nested(f, T2, LOCK_B, LOCK_A);
	release(f, T2, GATE);
	assert_int_equal(cycles(f, c), 0);
	/* control: once without the gate, the inversion stands */
	nested(f, T2, LOCK_B, LOCK_A);
	assert_int_equal(cycles(f, c), 1);
	assert_int_equal(c[0].n, 2);
	assert_int_equal(edge(f, &c[0], 0)->nheld, 2); /* GATE and A */
	assert_int_equal(edge(f, &c[0], 1)->nheld, 1); /* B only */
}

static void test_three_lock_cycle(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	nested(f, T1, LOCK_A, LOCK_B);
	nested(f, T2, LOCK_B, LOCK_C);
	assert_int_equal(cycles(f, c), 0);
	nested(f, T3, LOCK_C, LOCK_A);
	assert_int_equal(cycles(f, c), 1);
	assert_int_equal(c[0].n, 3);
	uint64_t want[3][2] = {{LOCK_A, LOCK_B}, {LOCK_B, LOCK_C}, {LOCK_C, LOCK_A}};
	uint32_t want_tid[3] = {T1, T2, T3};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(addr_of(f, edge(f, &c[0], i)->from), want[i][0]);
		assert_int_equal(addr_of(f, edge(f, &c[0], i)->to), want[i][1]);
		assert_int_equal(tid_of(f, edge(f, &c[0], i)->thread), want_tid[i]);
	}
}

/* Two edges of a three-lock cycle from one thread: it would have to wait for two locks at once. */
static void test_three_locks_two_threads_not_reported(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	nested(f, T1, LOCK_A, LOCK_B);
	nested(f, T1, LOCK_B, LOCK_C);
	nested(f, T2, LOCK_C, LOCK_A);
	assert_int_equal(cycles(f, c), 0);
}

/* A lock freed and a new one made at its address: the new one has none of the old one's edges. */
static void test_freed_lock_address_reused(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	nested(f, T1, LOCK_A, LOCK_B);
	sync_at(f, T1, PYSYNC_LOCK_FREED, LOCK_A, 0, 0);
	nested(f, T2, LOCK_B, LOCK_A);
	assert_int_equal(cycles(f, c), 0);
	/* control: the same lock again closes the cycle */
	nested(f, T1, LOCK_A, LOCK_B);
	assert_int_equal(cycles(f, c), 1);
}

/* Taking an RLock again while holding another lock is not an order: the thread holds it. */
static void test_rlock_reentry_not_an_edge(void **state)
{
	struct fixture *f = *state;
	struct lockorder_cycle c[LOCKORDER_MAX_CYCLES];
	acquire(f, T1, LOCK_A);
	acquire(f, T1, LOCK_B);
	acquire(f, T1, LOCK_A);
	release(f, T1, LOCK_A);
	release(f, T1, LOCK_B);
	release(f, T1, LOCK_A);
	assert_int_equal(f->h.order.nedges, 1);
	nested(f, T2, LOCK_A, LOCK_B);
	assert_int_equal(cycles(f, c), 0);
}

/* The sentinel a thread holds all its life is no lock of any order. */
static void test_sentinel_makes_no_edge(void **state)
{
	struct fixture *f = *state;
	struct trace_buf b = {0};
	trace_put_u64(&b, 0x7100000ull);
	trace_put_u32(&b, 1);
	trace_put_str(&b, "/usr/lib/python3.11/threading.py");
	trace_put_str(&b, "Thread._set_tstate_lock");
	trace_put_bytes(&b, NULL, 0);
	b.pos = 0;
	assert_int_equal(code_table_add(&f->code, &b), 0);
	trace_buf_free(&b);
	sync_at(f, T1, PYSYNC_ACQUIRE, SENTINEL, 0, 0x7100000ull);
	acquire(f, T1, LOCK_A);
	release(f, T1, LOCK_A);
	assert_int_equal(f->h.order.nedges, 0);
}

/* ---- the report --------------------------------------------------------------------------- */

static const struct report_frame FA = {"/srv/app/a.py", "a_then_b", 14};
static const struct report_frame FB = {"/srv/app/a.py", "a_then_b", 15};
static const struct report_frame FC = {"/srv/app/b.py", "b_then_a", 21};
static const struct report_frame FD = {"/srv/app/b.py", "b_then_a", 22};

static struct report_lock_edge make_edge(const char *held, const char *acquired, uint32_t tid,
					 const struct report_frame *hf,
					 const struct report_frame *af)
{
	return (struct report_lock_edge){
	    .held = held,
	    .acquired = acquired,
	    .thread = {tid, tid == 1 ? "Thread-1 (a)" : "Thread-2 (b)"},
	    .held_stack = {hf, 1, 0},
	    .acquired_stack = {af, 1, 0}};
}

static void test_id_independent_of_rotation(void **state)
{
	(void)state;
	const char *ab[] = {"__main__.A", "__main__.B"}, *ba[] = {"__main__.B", "__main__.A"};
	struct report_lock_edge e1[] = {make_edge(ab[0], ab[1], 1, &FA, &FB),
					make_edge(ab[1], ab[0], 2, &FC, &FD)};
	struct report_lock_edge e2[] = {e1[1], e1[0]};
	struct report_deadlock d1 = {.locks = ab, .nlocks = 2, .edges = e1, .nedges = 2};
	struct report_deadlock d2 = {.locks = ba, .nlocks = 2, .edges = e2, .nedges = 2};
	report_deadlock_compute_id(&d1);
	report_deadlock_compute_id(&d2);
	assert_int_equal(strlen(d1.id), 16);
	assert_string_equal(d1.id, d2.id);
	/* addresses are no part of it; source lines are */
	const char *addr[] = {"lock@0x1", "__main__.B"};
	struct report_lock_edge e3[] = {make_edge(addr[0], addr[1], 1, &FA, &FB),
					make_edge(addr[1], addr[0], 2, &FC, &FD)};
	const char *addr2[] = {"lock@0x2", "__main__.B"};
	struct report_lock_edge e4[] = {make_edge(addr2[0], addr2[1], 1, &FA, &FB),
					make_edge(addr2[1], addr2[0], 2, &FC, &FD)};
	struct report_deadlock d3 = {.locks = addr, .nlocks = 2, .edges = e3, .nedges = 2};
	struct report_deadlock d4 = {.locks = addr2, .nlocks = 2, .edges = e4, .nedges = 2};
	report_deadlock_compute_id(&d3);
	report_deadlock_compute_id(&d4);
	assert_string_equal(d3.id, d4.id);
	assert_string_not_equal(d1.id, d3.id);
	e4[1].acquired_stack.frames = &FC;
	report_deadlock_compute_id(&d4);
	assert_string_not_equal(d3.id, d4.id);
}

static char *render(void (*fn)(const struct report *, FILE *, int), const struct report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	assert_non_null(m);
	fn(r, m, 0);
	fclose(m);
	return buf;
}

static void write_text(const struct report *r, FILE *out, int color)
{
	report_write_text(r, out, color);
}

static void write_json(const struct report *r, FILE *out, int color)
{
	(void)color;
	assert_int_equal(report_write_json(r, out), 0);
}

static struct report one_deadlock(struct report_deadlock *d, const char **locks,
				  struct report_lock_edge *edges)
{
	edges[0] = make_edge(locks[0], locks[1], 1, &FA, &FB);
	edges[1] = make_edge(locks[1], locks[0], 2, &FC, &FD);
	*d = (struct report_deadlock){
	    .locks = locks, .nlocks = 2, .edges = edges, .nedges = 2, .occurrences = 3};
	report_deadlock_compute_id(d);
	return (struct report){.deadlocks = d, .ndeadlocks = 1, .stats = {.threads = 3}};
}

static void test_text_report(void **state)
{
	(void)state;
	const char *locks[] = {"__main__.A", "__main__.B"};
	struct report_lock_edge edges[2];
	struct report_deadlock d;
	struct report r = one_deadlock(&d, locks, edges);
	char *text = render(write_text, &r);
	const char *want[] = {
	    "WARNING: pyrace: lock-order inversion (potential deadlock)\n",
	    "  Cycle in lock order graph: __main__.A => __main__.B => __main__.A\n",
	    "  Mutex __main__.B acquired here while holding mutex __main__.A in thread "
	    "\"Thread-1 (a)\" (tid 1):\n    #0 a_then_b /srv/app/a.py:15\n",
	    "  Mutex __main__.A previously acquired by the same thread here:\n"
	    "    #0 a_then_b /srv/app/a.py:14\n",
	    "  Mutex __main__.A acquired here while holding mutex __main__.B in thread "
	    "\"Thread-2 (b)\" (tid 2):\n    #0 b_then_a /srv/app/b.py:22\n",
	    "  Seen 3 times.\n",
	    "SUMMARY: pyrace: lock-order inversion (potential deadlock) __main__.A => __main__.B "
	    "=> __main__.A at /srv/app/a.py:15 in a_then_b\n",
	    "pyrace: no races found (3 threads, 0 events, 0 lost events); 1 potential deadlock\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(text, want[i]))
			fail_msg("missing %s in:\n%s", want[i], text);
	char idline[64];
	snprintf(idline, sizeof idline, "  Deadlock id: %s\n", d.id);
	assert_non_null(strstr(text, idline));
	free(text);
}

static void test_json_report(void **state)
{
	(void)state;
	const char *locks[] = {"__main__.A", "__main__.B"};
	struct report_lock_edge edges[2];
	struct report_deadlock d;
	struct report r = one_deadlock(&d, locks, edges);
	char *json = render(write_json, &r);
	char id[64];
	snprintf(id, sizeof id, "\"id\": \"%s\"", d.id);
	const char *want[] = {
	    id,
	    "\"locks\": [\n        \"__main__.A\",\n        \"__main__.B\"\n      ]",
	    "\"held\": \"__main__.A\",\n          \"acquired\": \"__main__.B\"",
	    "\"thread\": {\n            \"tid\": 2,\n            \"name\": \"Thread-2 (b)\"\n",
	    "\"held_stack\": [\n            {\n              \"file\": \"/srv/app/a.py\",\n  "
	    "            \"function\": \"a_then_b\",\n              \"line\": 14\n",
	    "\"acquired_stack\": [",
	    "\"occurrences\": 3\n",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!strstr(json, want[i]))
			fail_msg("missing %s in:\n%s", want[i], json);
	assert_null(strstr(json, "suppressed_deadlocks"));
	free(json);
}

static void test_suppression(void **state)
{
	(void)state;
	const char *locks[] = {"__main__.A", "__main__.B"};
	struct report_lock_edge edges[2];
	struct report_deadlock d;
	one_deadlock(&d, locks, edges);
	struct suppressions s = {0};
	char err[256];
	const char *text = "race:*\nglobal:*\ndeadlock:nothing\ndeadlock:b_then_a\n"
			   "deadlock:__main__.B\n";
	assert_int_equal(suppressions_parse(&s, "f.supp", text, strlen(text), err, sizeof err), 0);
	const struct suppression *hit = suppressions_match_deadlock(&s, &d);
	assert_non_null(hit);
	assert_int_equal(hit->line, 4); /* race: and global: rules never match a deadlock */
	assert_true(suppression_matches_deadlock(&s.rules[4], &d));
	assert_false(suppression_matches_deadlock(&s.rules[2], &d));
	assert_string_equal(suppression_type_name(s.rules[2].type), "deadlock");
	suppressions_free(&s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_ab_ba_reported),
	    T(test_same_order_not_reported),
	    T(test_single_thread_not_reported),
	    T(test_ordered_by_join_dropped),
	    T(test_started_before_join_reported),
	    T(test_ordered_by_notify_dropped),
	    T(test_ordered_by_queue_dropped),
	    T(test_gate_lock_dropped),
	    T(test_three_lock_cycle),
	    T(test_three_locks_two_threads_not_reported),
	    T(test_freed_lock_address_reused),
	    T(test_rlock_reentry_not_an_edge),
	    T(test_sentinel_makes_no_edge),
	    cmocka_unit_test(test_id_independent_of_rotation),
	    cmocka_unit_test(test_text_report),
	    cmocka_unit_test(test_json_report),
	    cmocka_unit_test(test_suppression),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
