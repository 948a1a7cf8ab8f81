/* Lock-order inversions (potential deadlocks): the graph of "acquired B while holding A" and its
 * cycles, with the orderings that make a cycle impossible. */
#include "lockorder.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* Steps of the cycle search (graph walk and edge choices together) before it gives up: enough
 * for any real program's lock graph, and a bound on a pathological one. */
#define SEARCH_BUDGET 1000000u

void lockorder_init(struct lockorder *lo)
{
	memset(lo, 0, sizeof(*lo));
	u64map_init(&lo->edge_by_key);
	u64map_init(&lo->spawn_snap);
	u64map_init(&lo->channel_snap);
	u64map_init(&lo->signal_snap);
}

void lockorder_free(struct lockorder *lo)
{
	for (size_t i = 0; i < lo->nedges; i++) {
		free(lo->edges[i].held);
		vclock_free(&lo->edges[i].first);
	}
	for (size_t i = 0; i < lo->norder; i++)
		vclock_free(&lo->order[i]);
	for (size_t i = 0; i < lo->nsnaps; i++)
		vclock_free(&lo->snaps[i]);
	free(lo->edges);
	free(lo->order);
	free(lo->snaps);
	u64map_free(&lo->edge_by_key);
	u64map_free(&lo->spawn_snap);
	u64map_free(&lo->channel_snap);
	u64map_free(&lo->signal_snap);
}

/* The ordering clock of thread t, NULL when out of memory. */
static struct vclock *order_of(struct lockorder *lo, uint32_t t)
{
	if (t >= lo->norder) {
		struct vclock *grown = realloc(lo->order, ((size_t)t + 1) * sizeof(*grown));
		if (!grown) {
			lo->out_of_memory = 1;
			return NULL;
		}
		memset(grown + lo->norder, 0, ((size_t)t + 1 - lo->norder) * sizeof(*grown));
		lo->order = grown;
		lo->norder = (size_t)t + 1;
	}
	return &lo->order[t];
}

/* Joins thread t's ordering clock, as of its own clock `epoch`, into the snap that `map` holds
 * for (a, b), creating it if need be. */
static void publish(struct lockorder *lo, struct u64map *map, uint64_t a, uint64_t b, uint32_t t,
		    uint32_t epoch)
{
	struct vclock *order = order_of(lo, t);
	if (!order || vclock_set(order, t, epoch))
		return;
	uint64_t *slot = u64map_get(map, a, b);
	if (slot) {
		vclock_join(&lo->snaps[*slot - 1], order);
		return;
	}
	if (grow_array((void **)&lo->snaps, &lo->snaps_cap, lo->nsnaps + 1, sizeof(*lo->snaps),
		       &lo->out_of_memory))
		return;
	struct vclock *snap = &lo->snaps[lo->nsnaps];
	memset(snap, 0, sizeof(*snap));
	vclock_copy(snap, order);
	slot = u64map_put(map, a, b, NULL);
	if (!slot) {
		vclock_free(snap);
		return;
	}
	*slot = ++lo->nsnaps;
}

static void receive(struct lockorder *lo, struct u64map *map, uint64_t a, uint64_t b, uint32_t t)
{
	uint64_t *slot = u64map_get(map, a, b);
	struct vclock *order = slot ? order_of(lo, t) : NULL;
	if (order)
		vclock_join(order, &lo->snaps[*slot - 1]);
}

static void drop(struct lockorder *lo, struct u64map *map, uint64_t a, uint64_t b)
{
	uint64_t *slot = u64map_get(map, a, b);
	if (!slot)
		return;
	vclock_free(&lo->snaps[*slot - 1]);
	u64map_remove(map, a, b);
}

void lockorder_signal(struct lockorder *lo, uint32_t t, uint32_t epoch, uint32_t lock)
{
	publish(lo, &lo->signal_snap, lock, 0, t, epoch);
}

void lockorder_lock_freed(struct lockorder *lo, uint32_t lock)
{
	drop(lo, &lo->signal_snap, lock, 0);
}

void lockorder_spawn(struct lockorder *lo, uint32_t parent, uint32_t epoch, uint64_t boot)
{
	publish(lo, &lo->spawn_snap, boot, 0, parent, epoch);
}

void lockorder_begin(struct lockorder *lo, uint32_t child, uint64_t boot)
{
	receive(lo, &lo->spawn_snap, boot, 0, child);
	drop(lo, &lo->spawn_snap, boot, 0);
}

void lockorder_put(struct lockorder *lo, uint32_t t, uint32_t epoch, uint64_t queue, uint64_t item)
{
	publish(lo, &lo->channel_snap, queue, item, t, epoch);
}

void lockorder_get(struct lockorder *lo, uint32_t t, uint64_t queue, uint64_t item)
{
	receive(lo, &lo->channel_snap, queue, item, t);
}

void lockorder_channel_done(struct lockorder *lo, uint64_t queue, uint64_t item)
{
	drop(lo, &lo->channel_snap, queue, item);
}

static int compare_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/* held[] as a sorted set, for the gate-lock test. */
static uint32_t *held_set(const uint32_t *held, size_t nheld, size_t *n)
{
	uint32_t *set = malloc((nheld ? nheld : 1) * sizeof(*set));
	if (!set)
		return NULL;
	memcpy(set, held, nheld * sizeof(*set));
	qsort(set, nheld, sizeof(*set), compare_u32);
	size_t k = 0;
	for (size_t i = 0; i < nheld; i++)
		if (k == 0 || set[k - 1] != set[i])
			set[k++] = set[i];
	*n = k;
	return set;
}

static void add_edge(struct lockorder *lo, uint32_t t, uint32_t epoch, uint32_t from,
		     uint32_t from_stack, uint32_t to, uint32_t to_stack, const uint32_t *held,
		     size_t nheld, uint32_t lockset)
{
	uint64_t a = (uint64_t)from << 32 | to, b = (uint64_t)t << 32 | lockset;
	uint64_t *slot = u64map_get(&lo->edge_by_key, a, b);
	if (slot) {
		struct lockorder_edge *e = &lo->edges[*slot - 1];
		e->occurrences++;
		e->last_epoch = epoch;
		return;
	}
	struct vclock *order = order_of(lo, t);
	if (!order || grow_array((void **)&lo->edges, &lo->edges_cap, lo->nedges + 1,
				 sizeof(*lo->edges), &lo->out_of_memory))
		return;
	struct lockorder_edge e = {.from = from,
				   .to = to,
				   .thread = t,
				   .from_stack = from_stack,
				   .to_stack = to_stack,
				   .last_epoch = epoch,
				   .occurrences = 1};
	e.held = held_set(held, nheld, &e.nheld);
	slot = e.held ? u64map_put(&lo->edge_by_key, a, b, NULL) : NULL;
	if (!slot || vclock_copy(&e.first, order)) {
		if (slot)
			u64map_remove(&lo->edge_by_key, a, b);
		free(e.held);
		vclock_free(&e.first);
		lo->out_of_memory = 1;
		return;
	}
	lo->edges[lo->nedges] = e;
	*slot = ++lo->nedges;
}

void lockorder_acquire(struct lockorder *lo, uint32_t t, uint32_t epoch, uint32_t lock,
		       uint32_t stack, const uint32_t *held, const uint32_t *held_stacks,
		       size_t nheld, uint32_t lockset)
{
	receive(lo, &lo->signal_snap, lock, 0, t);
	for (size_t i = 0; i < nheld; i++)
		if (held[i] == lock)
			return; /* re-entry: the thread cannot wait for a lock it holds */
	for (size_t i = 0; i < nheld; i++) {
		int repeated = 0;
		for (size_t j = 0; j < i && !repeated; j++)
			repeated = held[j] == held[i];
		/* the outermost acquisition is the one that made the thread a holder */
		if (!repeated)
			add_edge(lo, t, epoch, held[i], held_stacks[i], lock, stack, held, nheld,
				 lockset);
	}
}

int lockorder_ordered(const struct lockorder *lo, const struct lockorder_edge *a,
		      const struct lockorder_edge *b)
{
	(void)lo;
	if (a->thread == b->thread)
		return 1;
	return a->last_epoch <= vclock_get(&b->first, a->thread) ||
	       b->last_epoch <= vclock_get(&a->first, b->thread);
}

/* ---- the cycle search ---- */

/* The edges grouped by (from, to): one arc of the lock graph each. */
struct arc {
	uint32_t from, to;
	size_t first, n; /* range in search.by_arc */
};

struct search {
	struct lockorder *lo;
	uint32_t *by_arc; /* edge indices sorted by (from, to) */
	struct arc *arcs; /* sorted by (from, to) */
	size_t narcs;
	uint32_t path[LOCKORDER_MAX_CYCLE];	      /* locks */
	const struct arc *steps[LOCKORDER_MAX_CYCLE]; /* steps[i]: path[i] -> path[i + 1] */
	uint32_t chosen[LOCKORDER_MAX_CYCLE];
	struct lockorder_cycle *out;
	size_t nout, max;
	unsigned long budget;
};

static int compare_edges(const void *x, const void *y, void *arg)
{
	const struct lockorder *lo = arg;
	const struct lockorder_edge *a = &lo->edges[*(const uint32_t *)x];
	const struct lockorder_edge *b = &lo->edges[*(const uint32_t *)y];
	if (a->from != b->from)
		return a->from < b->from ? -1 : 1;
	if (a->to != b->to)
		return a->to < b->to ? -1 : 1;
	return compare_u32(x, y);
}

static int has_lock(const struct lockorder_edge *e, uint32_t lock)
{
	return bsearch(&lock, e->held, e->nheld, sizeof(*e->held), compare_u32) != NULL;
}

/* A lock held at every chosen edge lets only one of them run at a time. */
static int gated(const struct search *s, size_t n)
{
	const struct lockorder_edge *first = &s->lo->edges[s->chosen[0]];
	for (size_t g = 0; g < first->nheld; g++) {
		size_t i = 1;
		while (i < n && has_lock(&s->lo->edges[s->chosen[i]], first->held[g]))
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

/* Picks one edge per step, each from its own thread and concurrent with the others. */
static int choose(struct search *s, size_t step, size_t n)
{
	if (step == n)
		return !gated(s, n);
	const struct arc *arc = s->steps[step];
	for (size_t k = 0; k < arc->n; k++) {
		if (s->budget == 0)
			return 0;
		s->budget--;
		uint32_t e = s->by_arc[arc->first + k];
		size_t i = 0;
		while (i < step &&
		       !lockorder_ordered(s->lo, &s->lo->edges[s->chosen[i]], &s->lo->edges[e]))
			i++;
		if (i < step)
			continue;
		s->chosen[step] = e;
		if (choose(s, step + 1, n))
			return 1;
	}
	return 0;
}

static void try_cycle(struct search *s, size_t n)
{
	if (s->nout == s->max || !choose(s, 0, n))
		return;
	struct lockorder_cycle *c = &s->out[s->nout++];
	memcpy(c->edges, s->chosen, n * sizeof(*c->edges));
	c->n = n;
}

/* The arcs leaving `lock`: a range of s->arcs. */
static size_t arcs_from(const struct search *s, uint32_t lock, size_t *first)
{
	size_t lo = 0, hi = s->narcs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->arcs[mid].from < lock)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < s->narcs && s->arcs[end].from == lock)
		end++;
	*first = lo;
	return end - lo;
}

/* Simple paths from path[0] through higher locks only, so each cycle is found once: from its
 * lowest lock. */
static void walk(struct search *s, size_t depth)
{
	size_t first, n = arcs_from(s, s->path[depth - 1], &first);
	for (size_t k = 0; k < n && s->budget > 0 && s->nout < s->max; k++) {
		s->budget--;
		const struct arc *arc = &s->arcs[first + k];
		s->steps[depth - 1] = arc;
		if (arc->to == s->path[0]) {
			if (depth >= 2)
				try_cycle(s, depth);
			continue;
		}
		if (arc->to < s->path[0] || depth == LOCKORDER_MAX_CYCLE)
			continue;
		size_t i = 0;
		while (i < depth && s->path[i] != arc->to)
			i++;
		if (i < depth)
			continue;
		s->path[depth] = arc->to;
		walk(s, depth + 1);
	}
}

size_t lockorder_cycles(struct lockorder *lo, struct lockorder_cycle *out, size_t max)
{
	struct search s = {.lo = lo, .out = out, .max = max, .budget = SEARCH_BUDGET};
	if (lo->nedges == 0 || max == 0)
		return 0;
	s.by_arc = malloc(lo->nedges * sizeof(*s.by_arc));
	s.arcs = malloc(lo->nedges * sizeof(*s.arcs));
	if (!s.by_arc || !s.arcs) {
		lo->out_of_memory = 1;
		goto out;
	}
	for (size_t i = 0; i < lo->nedges; i++)
		s.by_arc[i] = (uint32_t)i;
	qsort_r(s.by_arc, lo->nedges, sizeof(*s.by_arc), compare_edges, lo);
	for (size_t i = 0; i < lo->nedges; i++) {
		const struct lockorder_edge *e = &lo->edges[s.by_arc[i]];
		struct arc *last = s.narcs ? &s.arcs[s.narcs - 1] : NULL;
		if (last && last->from == e->from && last->to == e->to) {
			last->n++;
			continue;
		}
		s.arcs[s.narcs++] = (struct arc){e->from, e->to, i, 1};
	}
	for (size_t i = 0; i < s.narcs && s.budget > 0 && s.nout < s.max; i++) {
		if (i > 0 && s.arcs[i - 1].from == s.arcs[i].from)
			continue;
		s.path[0] = s.arcs[i].from;
		walk(&s, 1);
	}
out:
	free(s.by_arc);
	free(s.arcs);
	return s.nout;
}
