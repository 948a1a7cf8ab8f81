/* Bounded tables that give small ids to what the trace writer sees again and again. */
#include "intern.h"

#include <stdlib.h>
#include <string.h>

int intern_init(struct intern_index *x, uint32_t cap)
{
	memset(x, 0, sizeof(*x));
	/* twice as many entries as ids: a set rarely fills before the ids run out */
	x->nsets = cap * 2 / INTERN_WAYS ? cap * 2 / INTERN_WAYS : 1;
	x->cap = cap;
	size_t entries = (size_t)x->nsets * INTERN_WAYS;
	x->tags = calloc(entries, sizeof(*x->tags));
	x->ids = calloc(entries, sizeof(*x->ids));
	x->entry_of = calloc(cap, sizeof(*x->entry_of));
	x->victim = calloc(x->nsets, sizeof(*x->victim));
	if (!x->tags || !x->ids || !x->entry_of || !x->victim) {
		intern_free(x);
		return -1;
	}
	return 0;
}

void intern_free(struct intern_index *x)
{
	free(x->tags);
	free(x->ids);
	free(x->entry_of);
	free(x->victim);
	memset(x, 0, sizeof(*x));
}

uint32_t intern_insert(struct intern_index *x, uint64_t hash)
{
	uint32_t first = intern_set(x, hash);
	uint32_t entry = UINT32_MAX;
	for (uint32_t w = 0; w < INTERN_WAYS; w++) {
		if (!x->ids[first + w]) {
			entry = first + w;
			break;
		}
	}
	uint32_t id;
	if (entry == UINT32_MAX) {
		/* a full set: its oldest-placed entry gives its id to the new item */
		uint32_t set = first / INTERN_WAYS;
		entry = first + x->victim[set];
		x->victim[set] = (uint8_t)((x->victim[set] + 1) % INTERN_WAYS);
		id = x->ids[entry] - 1;
	} else if (x->given < x->cap) {
		id = x->given++;
	} else {
		/* every id in use: take one back from whichever entry holds it */
		id = x->clock;
		x->clock = (x->clock + 1) % x->cap;
		x->ids[x->entry_of[id] - 1] = 0;
	}
	x->tags[entry] = hash;
	x->ids[entry] = id + 1;
	x->entry_of[id] = entry + 1;
	return id;
}
