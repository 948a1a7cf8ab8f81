/* Open-addressing hash map from a pair of 64-bit keys to a 64-bit value. */
#ifndef PYRACE_U64MAP_H
#define PYRACE_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t a, b, value;
	uint8_t used;
};

struct u64map {
	struct u64map_slot *slots;
	size_t cap; /* power of two */
	size_t count, tombstones;
};

void u64map_init(struct u64map *m);
void u64map_free(struct u64map *m);
/* Returns the value slot for (a, b), or NULL when absent. */
uint64_t *u64map_get(struct u64map *m, uint64_t a, uint64_t b);
/* Returns the value slot for (a, b), inserting 0 when absent; NULL only when out of memory.
 * `created` (may be NULL) tells whether it was inserted. Pointers die at the next insert. */
uint64_t *u64map_put(struct u64map *m, uint64_t a, uint64_t b, int *created);
int u64map_remove(struct u64map *m, uint64_t a, uint64_t b);
/* Asks the processor to bring in the slot where (a, b) is looked up first: a hint, for a look-up
 * to come. */
void u64map_prefetch(const struct u64map *m, uint64_t a, uint64_t b);

#endif
