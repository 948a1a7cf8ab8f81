/* Finding every inlined copy of a function, and functions known only by name, in one walk
 * over the DIE trees (libdw's inline helpers rely on DW_AT_inline, which GCC's LTO output
 * leaves out). */
#include "dwarf_inline.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>

/* Inlined copies of the same function mostly point at the same few abstract DIEs, so the
 * chain from an origin to its root is followed once per origin. Open addressing, keys != 0. */
struct root_memo {
	uint64_t *keys, *roots;
	size_t cap, used;
};

static uint64_t memo_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static int memo_grow(struct root_memo *m)
{
	size_t cap = m->cap ? m->cap * 2 : 4096;
	uint64_t *keys = calloc(cap, sizeof(*keys)), *roots = calloc(cap, sizeof(*roots));
	if (!keys || !roots) {
		free(keys);
		free(roots);
		return -1;
	}
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		size_t j = memo_hash(m->keys[i]) & (cap - 1);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		roots[j] = m->roots[i];
	}
	free(m->keys);
	free(m->roots);
	m->keys = keys;
	m->roots = roots;
	m->cap = cap;
	return 0;
}

static uint64_t *memo_slot(struct root_memo *m, uint64_t key, int *found)
{
	if ((m->used + 1) * 2 > m->cap && memo_grow(m))
		return NULL;
	size_t j = memo_hash(key) & (m->cap - 1);
	while (m->keys[j] && m->keys[j] != key)
		j = (j + 1) & (m->cap - 1);
	*found = m->keys[j] == key;
	if (!*found) {
		m->keys[j] = key;
		m->used++;
	}
	return &m->roots[j];
}

struct walk {
	struct inline_query *q;
	size_t n;
	int by_name;   /* some query wants out-of-line copies by name */
	size_t untied; /* ... of which not tied to a DWARF function yet */
	struct root_memo memo;
	struct inline_walk_stats *stats;
	/* the functions of the inlined copies enclosing the scope being walked */
	uint64_t outer[66];
	int nouter;
};

/* A copy nested in a copy of the same function (GCC gives an error path of 3.14's inlined
 * lock release a DIE of its own inside the copy) is code of that copy, not another one. */
static int inside_copy_of(const struct walk *w, uint64_t root)
{
	for (int i = 0; i < w->nouter; i++)
		if (w->outer[i] == root)
			return 1;
	return 0;
}

/* Offset of the root DIE of the function `die` is an instance of; 0 when it has no origin. */
static uint64_t origin_root(struct walk *w, Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	Dwarf_Die origin, root;
	if (!dwarf_attr(die, DW_AT_abstract_origin, &attr) || !dwarf_formref_die(&attr, &origin))
		return 0;
	int found;
	uint64_t *slot = memo_slot(&w->memo, dwarf_dieoffset(&origin) + 1, &found);
	if (slot && found)
		return *slot;
	uint64_t r = dwarf_die_root(&origin, &root) == 0 ? dwarf_dieoffset(&root) + 1 : 0;
	if (slot)
		*slot = r;
	return r;
}

static int add_site(struct inline_query *q, Dwarf_Die *die, Dwarf_Die *caller)
{
	struct inline_site s = {0};
	Dwarf_Addr base, lo, hi;
	uint64_t entry;
	if (dwarf_die_entry(die, &entry) != 0)
		return 0; /* no code left of this copy */
	s.entry_pc = entry;
	ptrdiff_t off = 0;
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0) {
		s.nranges++;
		if (entry >= lo && entry < hi) {
			s.low = lo;
			s.high = hi;
		}
	}
	if (caller) {
		const char *name = dwarf_diename(caller);
		snprintf(s.caller, sizeof(s.caller), "%s", name ? name : "?");
		uint64_t c;
		if (dwarf_die_entry(caller, &c) == 0)
			s.caller_low = c;
	}
	dwarf_die_params(die, entry, &s.params);
	struct inline_site *grown = realloc(q->sites, (q->nsites + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	q->sites = grown;
	q->sites[q->nsites++] = s;
	return 0;
}

static void match_by_name(struct walk *w, Dwarf_Die *die)
{
	uint64_t pc;
	const char *name = dwarf_diename(die);
	if (!name || dwarf_die_entry(die, &pc) != 0)
		return;
	for (size_t i = 0; i < w->n; i++) {
		struct inline_query *q = &w->q[i];
		if (!q->name || q->vaddr || strcmp(q->name, name) != 0 ||
		    q->ndefs == sizeof(q->defs) / sizeof(q->defs[0]))
			continue;
		q->defs[q->ndefs++] = pc;
		if (!q->root) {
			Dwarf_Die root;
			if (dwarf_die_root(die, &root) == 0)
				q->root = dwarf_dieoffset(&root) + 1;
			w->untied -= q->root != 0;
		}
	}
}

/* A function inlined everywhere has no out-of-line copy to be found by name: the first of its
 * inlined copies the walk meets ties it to their abstract DIE instead. */
static void tie_by_origin_name(struct walk *w, Dwarf_Die *inlined, uint64_t root)
{
	Dwarf_Attribute attr;
	Dwarf_Die origin, abstract;
	if (!dwarf_attr(inlined, DW_AT_abstract_origin, &attr) ||
	    !dwarf_formref_die(&attr, &origin) || dwarf_die_root(&origin, &abstract))
		return;
	const char *name = dwarf_diename(&abstract);
	for (size_t i = 0; name && i < w->n; i++) {
		struct inline_query *q = &w->q[i];
		if (q->root || q->vaddr || !q->name || strcmp(q->name, name) != 0)
			continue;
		q->root = root;
		w->untied--;
	}
}

/* Visits the scopes under `parent`; only scopes can hold inlined copies, so variables and
 * types are stepped over without looking inside. */
static void walk_scopes(struct walk *w, Dwarf_Die *parent, Dwarf_Die *caller, int depth)
{
	Dwarf_Die child;
	if (depth > 64 || dwarf_child(parent, &child) != 0)
		return;
	do {
		w->stats->dies++;
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_subprogram) {
			uint64_t pc;
			int concrete = dwarf_die_entry(&child, &pc) == 0;
			if (concrete && w->by_name)
				match_by_name(w, &child);
			walk_scopes(w, &child, concrete ? &child : caller, depth + 1);
		} else if (tag == DW_TAG_inlined_subroutine) {
			w->stats->inlined++;
			uint64_t root = origin_root(w, &child);
			if (root && w->untied)
				tie_by_origin_name(w, &child, root);
			for (size_t i = 0; root && i < w->n && !inside_copy_of(w, root); i++)
				if (w->q[i].root == root)
					add_site(&w->q[i], &child, caller);
			w->outer[w->nouter++] = root;
			walk_scopes(w, &child, caller, depth + 1);
			w->nouter--;
		} else if (tag == DW_TAG_lexical_block) {
			walk_scopes(w, &child, caller, depth + 1);
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* Units that hold no code (GCC's early-debug units under LTO: declarations and abstract
 * functions only) cannot hold an inlined copy. */
static int unit_has_code(Dwarf_Die *cu)
{
	Dwarf_Addr base, lo, hi;
	ptrdiff_t off = 0;
	while ((off = dwarf_ranges(cu, off, &base, &lo, &hi)) > 0)
		if (hi > lo)
			return 1;
	return 0;
}

int dwarf_find_inlined(struct dwarf_file *df, struct inline_query *queries, size_t n,
		       struct inline_walk_stats *stats)
{
	struct inline_walk_stats local;
	stats = stats ? stats : &local;
	memset(stats, 0, sizeof(*stats));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct walk w = {.q = queries, .n = n, .stats = stats};
	size_t tied = 0;
	for (size_t i = 0; i < n; i++) {
		struct inline_query *q = &queries[i];
		q->root = 0;
		Dwarf_Die fn, root;
		if (q->vaddr && dwarf_function_at(df, q->vaddr, &fn) == 0 &&
		    dwarf_die_root(&fn, &root) == 0)
			q->root = dwarf_dieoffset(&root) + 1;
		else if (!q->vaddr && q->name) {
			w.by_name = 1;
			w.untied++;
		}
		tied += q->root != 0 || (!q->vaddr && q->name);
	}
	if (tied) {
		Dwarf_CU *unit = NULL;
		Dwarf_Die cudie;
		uint8_t unit_type;
		while (dwarf_get_units(dwarf_file_dwarf(df), unit, &unit, NULL, &unit_type, &cudie,
				       NULL) == 0) {
			stats->units++;
			if (!unit_has_code(&cudie))
				continue;
			stats->units_walked++;
			walk_scopes(&w, &cudie, NULL, 0);
		}
	}
	free(w.memo.keys);
	free(w.memo.roots);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	stats->seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	return tied ? 0 : -1;
}

void inline_query_release(struct inline_query *q)
{
	free(q->sites);
	q->sites = NULL;
	q->nsites = 0;
}
