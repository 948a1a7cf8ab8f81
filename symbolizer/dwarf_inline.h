/* Finding every inlined copy of a function, and functions known only by name, in one walk
 * over the DIE trees (libdw's inline helpers rely on DW_AT_inline, which GCC's LTO output
 * leaves out). */
#ifndef PYRACE_DWARF_INLINE_H
#define PYRACE_DWARF_INLINE_H

#include <stddef.h>
#include <stdint.h>

#include "dwarf_file.h"

/* One inlined copy: where it starts, the address range holding that start, and the function
 * it was inlined into. */
struct inline_site {
	uint64_t entry_pc;
	uint64_t low, high; /* the range containing entry_pc: [low, high) */
	size_t nranges;
	char caller[96];     /* DWARF name of the enclosing concrete function */
	uint64_t caller_low; /* that function's entry pc, for caller+offset */
	struct dwarf_params params;
};

/* A function to look for. Set `vaddr` to the address of its out-of-line copy (the abstract
 * function is then the one that copy belongs to) or, when no symbol names it, `name` (the
 * function's source name): the walk then also reports its out-of-line copies. */
struct inline_query {
	uint64_t vaddr;
	const char *name;
	/* results, owned by the query: free with inline_query_release() */
	struct inline_site *sites;
	size_t nsites;
	uint64_t defs[4]; /* out-of-line copies found by name */
	size_t ndefs;
	/* private */
	uint64_t root;
};

struct inline_walk_stats {
	size_t units, units_walked, dies, inlined;
	double seconds;
};

/* One pass over the code-bearing units of `df`. Returns 0, or -1 when no query could be tied
 * to a DWARF function. */
int dwarf_find_inlined(struct dwarf_file *df, struct inline_query *queries, size_t n,
		       struct inline_walk_stats *stats);
void inline_query_release(struct inline_query *q);

#endif /* PYRACE_DWARF_INLINE_H */
