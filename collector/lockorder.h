/* Lock-order inversions (potential deadlocks): the graph of "acquired B while holding A" and its
 * cycles, with the orderings that make a cycle impossible. */
#ifndef PYRACE_LOCKORDER_H
#define PYRACE_LOCKORDER_H

#include <stddef.h>
#include <stdint.h>

#include "u64map.h"
#include "vclock.h"

/* The longest cycle looked for, and how many are kept: a lock graph is small, its cycles need
 * not be, so the search is bounded. */
#define LOCKORDER_MAX_CYCLE  8
#define LOCKORDER_MAX_CYCLES 256

/* One kind of acquisition: `to` acquired by one thread while holding `from` (and `held`). */
struct lockorder_edge {
	uint32_t from, to;	       /* hb lock indices (one per lock lifetime) */
	uint32_t thread;	       /* hb thread index */
	uint32_t from_stack, to_stack; /* where `from` and `to` were acquired, first time seen */
	uint32_t *held; /* every lock held when `to` was acquired, `from` among them */
	size_t nheld;
	uint32_t last_epoch; /* the thread's own clock at the last such acquisition */
	struct vclock first; /* the thread's ordering clock at the first one */
	uint64_t occurrences;
};

/* A cycle: edges[i] goes from the lock edges[i - 1] went to. */
struct lockorder_cycle {
	uint32_t edges[LOCKORDER_MAX_CYCLE];
	size_t n;
};

/* The ordering clocks only move along orderings that no schedule can undo (thread start, join,
 * queue hand-offs, a lock released by a thread other than its holder, as a Condition's waiter
 * lock is): a lock's own release -> acquire orders two critical sections only in the schedule
 * seen, and the other schedule is the deadlock. */
struct lockorder {
	struct lockorder_edge *edges;
	size_t nedges, edges_cap;
	struct u64map edge_by_key; /* (from << 32 | to, thread << 32 | lockset) -> index + 1 */
	struct vclock *order;	   /* per hb thread index */
	size_t norder;
	struct vclock *snaps; /* stored ordering clocks */
	size_t nsnaps, snaps_cap;
	struct u64map spawn_snap;   /* boot pointer -> snap + 1 */
	struct u64map channel_snap; /* (queue, item) -> snap + 1 */
	struct u64map signal_snap;  /* hb lock index -> snap + 1 */
	int out_of_memory;
};

void lockorder_init(struct lockorder *lo);
void lockorder_free(struct lockorder *lo);

/* Thread `t` (own clock `epoch`) acquired `lock` at `stack` while holding held[] (acquired at
 * held_stacks[], interned by the caller as `lockset`). `held` may repeat a lock (an RLock taken
 * again), and holding `lock` already makes no edge. */
void lockorder_acquire(struct lockorder *lo, uint32_t t, uint32_t epoch, uint32_t lock,
		       uint32_t stack, const uint32_t *held, const uint32_t *held_stacks,
		       size_t nheld, uint32_t lockset);
/* A release by a thread that did not hold the lock, or a thread's end releasing its sentinel:
 * whoever acquires the lock next comes after. */
void lockorder_signal(struct lockorder *lo, uint32_t t, uint32_t epoch, uint32_t lock);
/* The lock died: a new lock at its address inherits nothing. */
void lockorder_lock_freed(struct lockorder *lo, uint32_t lock);
void lockorder_spawn(struct lockorder *lo, uint32_t parent, uint32_t epoch, uint64_t boot);
void lockorder_begin(struct lockorder *lo, uint32_t child, uint64_t boot);
void lockorder_put(struct lockorder *lo, uint32_t t, uint32_t epoch, uint64_t queue, uint64_t item);
void lockorder_get(struct lockorder *lo, uint32_t t, uint64_t queue, uint64_t item);
/* The last get of an item: its clock can go. */
void lockorder_channel_done(struct lockorder *lo, uint64_t queue, uint64_t item);

/* Whether two edges can never be waited on at once: made by the same thread, or one certainly
 * over before the other begins. */
int lockorder_ordered(const struct lockorder *lo, const struct lockorder_edge *a,
		      const struct lockorder_edge *b);

/* The potential deadlocks: each cycle of locks (found once, from its lowest lock) for which some
 * choice of edges has one thread per edge, no lock held at every edge (a gate), and no two edges
 * ordered. At most `max` cycles go into out; returns how many. */
size_t lockorder_cycles(struct lockorder *lo, struct lockorder_cycle *out, size_t max);

#endif
