/* Weak causal precedence (WCP, Kini, Mathur and Viswanathan, PLDI 2017) for pyrace --predict:
 * a release of a lock orders a later acquire only when the two critical sections touch a
 * variable in common with a write, or through the closure rules; everything else that orders
 * (thread start and join, queue and registry hand-offs, publication, the locks of the threading
 * machinery) orders as in happens-before. Races unordered by WCP but ordered by happens-before
 * are the predicted ones: another schedule of the same program can make them happen. */
#ifndef PYRACE_WCP_H
#define PYRACE_WCP_H

#include <stddef.h>
#include <stdint.h>

#include "u64map.h"
#include "vclock.h"

/* One critical section of a lock: the acquirer's WCP time at the acquire, its happens-before
 * clock at the release. */
struct wcp_section {
	uint32_t thread;
	int released;
	struct vclock acquired; /* C: P with the thread's own component from H */
	struct vclock released_h;
};

struct wcp_lock {
	struct vclock p; /* P of the last release */
	struct wcp_section *log;
	size_t n, cap;
	uint64_t base;	  /* absolute index of log[0] */
	uint64_t *cursor; /* per thread: absolute index of the next section to consider */
	size_t ncursor;
	int strong; /* orders as in happens-before (machinery, hand-offs) */
	int classified;
};

struct wcp_held {
	uint32_t lock;
	size_t log_pos; /* accesses of the critical section start here */
};

struct wcp_access {
	uint32_t var;
	uint8_t write;
};

struct wcp_thread {
	struct vclock p;
	struct wcp_held *held;
	size_t nheld, held_cap;
	struct wcp_access *log; /* accesses made while holding a lock */
	size_t nlog, log_cap;
};

struct wcp {
	struct wcp_thread *threads;
	size_t nthreads;
	struct wcp_lock *locks;
	size_t nlocks;
	struct u64map var_clock; /* (lock << 32 | var, 0 read / 1 write) -> clocks index + 1 */
	struct vclock *clocks;
	size_t nclocks, clocks_cap;
	uint64_t dropped_sections; /* forgotten to bound memory: may add predicted races */
	int out_of_memory;
};

void wcp_init(struct wcp *w);
void wcp_free(struct wcp *w);
/* P of thread `t` (grown on demand); NULL only when out of memory. */
struct vclock *wcp_clock(struct wcp *w, uint32_t t);
/* A hand-off that orders as in happens-before: P of `t` takes in `h`. */
void wcp_join_strong(struct wcp *w, uint32_t t, const struct vclock *h);
/* Whether the lock orders as in happens-before; `machinery` says the acquire at hand comes
 * from the threading machinery (decided at a lock's first acquire). */
int wcp_lock_strong(struct wcp *w, uint32_t lock, int machinery);
/* A lock released by a thread that did not acquire it: a hand-off from then on. */
void wcp_lock_handoff(struct wcp *w, uint32_t lock);
/* Acquire of a weak lock by `t`, whose happens-before clock is `h`; `h_lock` is the lock's. */
void wcp_acquire(struct wcp *w, uint32_t t, const struct vclock *h, uint32_t lock);
/* Release of a weak lock by `t` whose happens-before clock is `h` (before the tick). */
void wcp_release(struct wcp *w, uint32_t t, const struct vclock *h, uint32_t lock);
/* An access of variable `var` by `t`: ordered after the critical sections of the locks it holds
 * that conflict with it. */
void wcp_access(struct wcp *w, uint32_t t, uint32_t var, int write);
/* A lock died: a new lock at its address starts afresh. */
void wcp_forget_lock(struct wcp *w, uint32_t lock);

#endif
