/* Open-addressing hash map from a pair of 64-bit keys to a 64-bit value. */
#include "u64map.h"

#include <stdlib.h>

#include "grow.h"

enum { SLOT_EMPTY = 0, SLOT_USED = 1, SLOT_DELETED = 2 };

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull + (a << 6) + (a >> 2));
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 29;
	return h;
}

void u64map_init(struct u64map *m)
{
	m->slots = NULL;
	m->cap = m->count = m->tombstones = 0;
}

void u64map_free(struct u64map *m)
{
	free(m->slots);
	u64map_init(m);
}

static struct u64map_slot *find(const struct u64map *m, uint64_t a, uint64_t b)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = mix(a, b) & mask;; i = (i + 1) & mask) {
		struct u64map_slot *s = &m->slots[i];
		if (s->used == SLOT_EMPTY)
			return NULL;
		if (s->used == SLOT_USED && s->a == a && s->b == b)
			return s;
	}
}

static int grow(struct u64map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	if (m->count * 2 < m->cap)
		cap = m->cap; /* only tombstones to sweep */
	struct u64map_slot *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -1;
	grow_hint_huge(slots, cap * sizeof(*slots));
	for (size_t i = 0; i < m->cap; i++) {
		struct u64map_slot *s = &m->slots[i];
		if (s->used != SLOT_USED)
			continue;
		size_t j = mix(s->a, s->b) & (cap - 1);
		while (slots[j].used)
			j = (j + 1) & (cap - 1);
		slots[j] = *s;
	}
	free(m->slots);
	m->slots = slots;
	m->cap = cap;
	m->tombstones = 0;
	return 0;
}

uint64_t *u64map_get(struct u64map *m, uint64_t a, uint64_t b)
{
	struct u64map_slot *s = find(m, a, b);
	return s ? &s->value : NULL;
}

uint64_t *u64map_put(struct u64map *m, uint64_t a, uint64_t b, int *created)
{
	struct u64map_slot *s = find(m, a, b);
	if (created)
		*created = s == NULL;
	if (s)
		return &s->value;
	if ((m->count + m->tombstones + 1) * 4 > m->cap * 3 && grow(m))
		return NULL;
	size_t mask = m->cap - 1, i = mix(a, b) & mask;
	while (m->slots[i].used == SLOT_USED)
		i = (i + 1) & mask;
	if (m->slots[i].used == SLOT_DELETED)
		m->tombstones--;
	m->slots[i] = (struct u64map_slot){.a = a, .b = b, .value = 0, .used = SLOT_USED};
	m->count++;
	return &m->slots[i].value;
}

int u64map_remove(struct u64map *m, uint64_t a, uint64_t b)
{
	struct u64map_slot *s = find(m, a, b);
	if (!s)
		return -1;
	s->used = SLOT_DELETED;
	m->count--;
	m->tombstones++;
	return 0;
}

void u64map_prefetch(const struct u64map *m, uint64_t a, uint64_t b)
{
	if (m->cap)
		__builtin_prefetch(&m->slots[mix(a, b) & (m->cap - 1)]);
}
