/* Bounded tables that give small ids to what the trace writer sees again and again (threads,
 * keys, stacks): a new item takes a fresh id while there are some, then the id of an old item,
 * which the reader then forgets (the writer defines the id anew before using it again). Memory is
 * fixed at init, whatever the number of distinct items over a long run. */
#ifndef PYRACE_INTERN_H
#define PYRACE_INTERN_H

#include <stdint.h>

/* Entries of one set: an item is looked for in its set only. */
#define INTERN_WAYS 4

struct intern_index {
	uint32_t nsets;	    /* power of two */
	uint32_t cap;	    /* ids 0 .. cap - 1 */
	uint32_t given;	    /* fresh ids handed out so far */
	uint32_t clock;	    /* once all are given: the id taken back next, round robin */
	uint64_t *tags;	    /* hash per entry, nsets * INTERN_WAYS entries */
	uint32_t *ids;	    /* id + 1 per entry, 0: empty */
	uint32_t *entry_of; /* id -> entry + 1 */
	uint8_t *victim;    /* per set: the way replaced next when the set is full */
};

/* `cap`: a power of two. 0, or -1 when out of memory. */
int intern_init(struct intern_index *x, uint32_t cap);
void intern_free(struct intern_index *x);

/* First entry of the set of `hash`; entries first .. first + INTERN_WAYS - 1 hold the candidates:
 * those whose ids[] is non-zero and whose tags[] equals `hash`, to be compared by the caller. */
static inline uint32_t intern_set(const struct intern_index *x, uint64_t hash)
{
	return (uint32_t)((hash ^ (hash >> 29)) & (x->nsets - 1)) * INTERN_WAYS;
}

/* Gives an id to a new item of `hash` (not found among the candidates); the caller stores the
 * item under that id, replacing whatever was there. */
uint32_t intern_insert(struct intern_index *x, uint64_t hash);

#endif
