/* Weak causal precedence: the vector-clock algorithm of Kini et al., with the per-thread queues
 * of earlier critical sections kept once per lock and read through per-thread cursors. */
#include "wcp.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* Critical sections kept per lock for rule (b); older ones are forgotten (counted), which can
 * only remove orderings, so it adds predicted races and never hides one. */
#define WCP_MAX_SECTIONS 4096

void wcp_init(struct wcp *w)
{
	memset(w, 0, sizeof(*w));
	u64map_init(&w->var_clock);
}

static void free_section(struct wcp_section *s)
{
	vclock_free(&s->acquired);
	vclock_free(&s->released_h);
}

static void free_lock(struct wcp_lock *l)
{
	vclock_free(&l->p);
	for (size_t i = 0; i < l->n; i++)
		free_section(&l->log[i]);
	free(l->log);
	free(l->cursor);
	memset(l, 0, sizeof(*l));
}

void wcp_free(struct wcp *w)
{
	for (size_t i = 0; i < w->nthreads; i++) {
		vclock_free(&w->threads[i].p);
		free(w->threads[i].held);
		free(w->threads[i].log);
	}
	for (size_t i = 0; i < w->nlocks; i++)
		free_lock(&w->locks[i]);
	for (size_t i = 0; i < w->nclocks; i++)
		vclock_free(&w->clocks[i]);
	free(w->threads);
	free(w->locks);
	free(w->clocks);
	u64map_free(&w->var_clock);
}

static struct wcp_thread *thread_at(struct wcp *w, uint32_t t)
{
	if (t >= w->nthreads) {
		size_t cap = w->nthreads;
		if (grow_array((void **)&w->threads, &cap, (size_t)t + 1, sizeof(*w->threads),
			       &w->out_of_memory))
			return NULL;
		w->nthreads = cap;
	}
	return &w->threads[t];
}

static struct wcp_lock *lock_at(struct wcp *w, uint32_t lock)
{
	if (lock >= w->nlocks) {
		size_t cap = w->nlocks;
		if (grow_array((void **)&w->locks, &cap, (size_t)lock + 1, sizeof(*w->locks),
			       &w->out_of_memory))
			return NULL;
		w->nlocks = cap;
	}
	return &w->locks[lock];
}

struct vclock *wcp_clock(struct wcp *w, uint32_t t)
{
	struct wcp_thread *th = thread_at(w, t);
	return th ? &th->p : NULL;
}

void wcp_join_strong(struct wcp *w, uint32_t t, const struct vclock *h)
{
	struct vclock *p = wcp_clock(w, t);
	if (p)
		vclock_join(p, h);
}

int wcp_lock_strong(struct wcp *w, uint32_t lock, int machinery)
{
	struct wcp_lock *l = lock_at(w, lock);
	if (!l)
		return 1;
	if (!l->classified) {
		l->classified = 1;
		l->strong = machinery;
	}
	return l->strong;
}

void wcp_lock_handoff(struct wcp *w, uint32_t lock)
{
	struct wcp_lock *l = lock_at(w, lock);
	if (l)
		l->strong = l->classified = 1;
}

/* C of thread t: its P, with its own component taken from its happens-before clock. */
static int current_time(struct wcp *w, uint32_t t, const struct vclock *h, struct vclock *out)
{
	struct vclock *p = wcp_clock(w, t);
	if (!p || vclock_copy(out, p) || vclock_set(out, t, vclock_get(h, t)))
		return -1;
	return 0;
}

static int leq(const struct vclock *a, const struct vclock *b)
{
	for (uint32_t i = 0; i < a->n; i++)
		if (a->c[i] > vclock_get(b, i))
			return 0;
	return 1;
}

static uint64_t *cursor_of(struct wcp *w, struct wcp_lock *l, uint32_t t)
{
	if (t >= l->ncursor) {
		size_t cap = l->ncursor;
		if (grow_array((void **)&l->cursor, &cap, (size_t)t + 1, sizeof(*l->cursor),
			       &w->out_of_memory))
			return NULL;
		/* a thread new to this lock has no earlier section to consider */
		for (size_t i = l->ncursor; i < cap; i++)
			l->cursor[i] = l->base + l->n;
		l->ncursor = cap;
	}
	return &l->cursor[t];
}

/* Forgets sections every thread has considered, and the oldest beyond the bound. */
static void trim(struct wcp *w, struct wcp_lock *l)
{
	uint64_t low = l->base + l->n;
	for (size_t i = 0; i < l->ncursor; i++)
		if (l->cursor[i] < low)
			low = l->cursor[i];
	if (l->n > WCP_MAX_SECTIONS && low < l->base + l->n - WCP_MAX_SECTIONS / 2) {
		/* down to half the bound at once, so that this happens rarely */
		w->dropped_sections += l->base + l->n - WCP_MAX_SECTIONS / 2 - low;
		low = l->base + l->n - WCP_MAX_SECTIONS / 2;
	}
	size_t drop = low > l->base ? (size_t)(low - l->base) : 0;
	/* compacting costs a move of the whole log: do it once half of it can go */
	if (drop == 0 || (drop < l->n / 2 && l->n <= WCP_MAX_SECTIONS))
		return;
	for (size_t i = 0; i < drop; i++)
		free_section(&l->log[i]);
	memmove(l->log, l->log + drop, (l->n - drop) * sizeof(*l->log));
	memset(l->log + (l->n - drop), 0, drop * sizeof(*l->log));
	l->n -= drop;
	l->base = low;
	for (size_t i = 0; i < l->ncursor; i++)
		if (l->cursor[i] < low)
			l->cursor[i] = low;
}

void wcp_acquire(struct wcp *w, uint32_t t, const struct vclock *h, uint32_t lock)
{
	struct wcp_lock *l = lock_at(w, lock);
	struct wcp_thread *th = thread_at(w, t);
	if (!l || !th)
		return;
	/* rule (c): what is WCP-before the last release is WCP-before this acquire */
	vclock_join(&th->p, &l->p);
	if (grow_array((void **)&l->log, &l->cap, l->n + 1, sizeof(*l->log), &w->out_of_memory))
		return;
	struct wcp_section *s = &l->log[l->n];
	memset(s, 0, sizeof(*s));
	s->thread = t;
	if (current_time(w, t, h, &s->acquired)) {
		free_section(s);
		return;
	}
	l->n++;
	uint64_t *mine = cursor_of(w, l, t);
	if (mine && *mine == l->base + l->n - 1)
		*mine = l->base + l->n; /* its own section is not an earlier one */
	if (grow_array((void **)&th->held, &th->held_cap, th->nheld + 1, sizeof(*th->held),
		       &w->out_of_memory))
		return;
	th->held[th->nheld++] = (struct wcp_held){lock, th->nlog};
}

static struct vclock *var_clock(struct wcp *w, uint32_t lock, uint32_t var, int write, int create)
{
	uint64_t a = ((uint64_t)lock << 32) | var;
	uint64_t *slot = create ? u64map_put(&w->var_clock, a, (uint64_t)write, NULL)
				: u64map_get(&w->var_clock, a, (uint64_t)write);
	if (!slot)
		return NULL;
	if (*slot == 0) {
		if (grow_array((void **)&w->clocks, &w->clocks_cap, w->nclocks + 1,
			       sizeof(*w->clocks), &w->out_of_memory))
			return NULL;
		*slot = ++w->nclocks;
	}
	return &w->clocks[*slot - 1];
}

void wcp_release(struct wcp *w, uint32_t t, const struct vclock *h, uint32_t lock)
{
	struct wcp_lock *l = lock_at(w, lock);
	struct wcp_thread *th = thread_at(w, t);
	if (!l || !th)
		return;
	/* rule (b): an earlier section of another thread whose acquire is WCP-before this release
	 * has its release WCP-before this one */
	struct vclock now = {0};
	uint64_t *cur = cursor_of(w, l, t);
	if (cur && current_time(w, t, h, &now) == 0) {
		while (*cur < l->base + l->n) {
			struct wcp_section *s = &l->log[*cur - l->base];
			if (s->thread == t) {
				(*cur)++;
				continue;
			}
			if (!s->released || !leq(&s->acquired, &now))
				break;
			vclock_join(&th->p, &s->released_h);
			vclock_join(&now, &s->released_h); /* still P with t's own time */
			(*cur)++;
		}
	}
	vclock_free(&now);
	/* rule (a) for later sections: each variable this one touched remembers the release */
	size_t at = th->nheld;
	while (at > 0 && th->held[at - 1].lock != lock)
		at--;
	if (at > 0) {
		for (size_t i = th->held[at - 1].log_pos; i < th->nlog; i++) {
			struct vclock *c = var_clock(w, lock, th->log[i].var, th->log[i].write, 1);
			if (c)
				vclock_join(c, h);
		}
		memmove(&th->held[at - 1], &th->held[at], (th->nheld - at) * sizeof(*th->held));
		th->nheld--;
		if (th->nheld == 0)
			th->nlog = 0;
	}
	vclock_copy(&l->p, &th->p);
	/* this section, for the others' rule (b) */
	for (size_t i = l->n; i > 0; i--) {
		struct wcp_section *s = &l->log[i - 1];
		if (s->thread == t && !s->released) {
			s->released = 1;
			vclock_copy(&s->released_h, h);
			break;
		}
	}
	trim(w, l);
}

void wcp_access(struct wcp *w, uint32_t t, uint32_t var, int write)
{
	struct wcp_thread *th = thread_at(w, t);
	if (!th || th->nheld == 0)
		return;
	/* rule (a): a conflicting access in an earlier section of a lock held now */
	for (size_t i = 0; i < th->nheld; i++) {
		struct vclock *c = var_clock(w, th->held[i].lock, var, 1, 0);
		if (c)
			vclock_join(&th->p, c);
		if (write && (c = var_clock(w, th->held[i].lock, var, 0, 0)) != NULL)
			vclock_join(&th->p, c);
	}
	if (grow_array((void **)&th->log, &th->log_cap, th->nlog + 1, sizeof(*th->log),
		       &w->out_of_memory))
		return;
	th->log[th->nlog++] = (struct wcp_access){var, (uint8_t)(write != 0)};
}

void wcp_forget_lock(struct wcp *w, uint32_t lock)
{
	if (lock < w->nlocks)
		free_lock(&w->locks[lock]);
}
