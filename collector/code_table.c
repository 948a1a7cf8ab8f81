/* Code objects of a trace (from TREC_CODE records) and interned Python stacks. */
#include "code_table.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

void code_table_init(struct code_table *t)
{
	memset(t, 0, sizeof(*t));
	u64map_init(&t->by_addr);
	u64map_init(&t->by_hash);
	/* stack id 0: no frames */
	t->stacks = calloc(1, sizeof(*t->stacks));
	t->nstacks = t->stacks ? 1 : 0;
	t->stacks_cap = t->nstacks;
}

void code_table_free(struct code_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->entries[i].file);
		free(t->entries[i].qualname);
		free(t->entries[i].ranges);
	}
	free(t->entries);
	free(t->stacks);
	free(t->frames);
	u64map_free(&t->by_addr);
	u64map_free(&t->by_hash);
	memset(t, 0, sizeof(*t));
}

int code_table_add(struct code_table *t, struct trace_buf *b)
{
	uint64_t addr = trace_get_u64(b);
	int first_line = (int)trace_get_u32(b);
	char *file = trace_get_str(b);
	char *qualname = trace_get_str(b);
	uint32_t len;
	const uint8_t *table = trace_get_bytes(b, &len);
	struct code_entry e = {.file = file, .qualname = qualname, .first_line = first_line};
	if (b->error || !file || !qualname ||
	    grow_array((void **)&t->entries, &t->cap, t->n + 1, sizeof(*t->entries), NULL))
		goto fail;
	if (table && len)
		linetable_decode(table, len, first_line, &e.ranges, &e.nranges);
	int created;
	uint64_t *slot = u64map_put(&t->by_addr, addr, 0, &created);
	if (!slot)
		goto fail;
	if (!created)
		t->replaced++;
	t->entries[t->n] = e;
	*slot = ++t->n;
	return 0;
fail:
	free(file);
	free(qualname);
	return -1;
}

const struct code_entry *code_table_get(const struct code_table *t, uint64_t code)
{
	uint64_t *slot = u64map_get((struct u64map *)&t->by_addr, code, 0);
	return slot ? &t->entries[*slot - 1] : NULL;
}

int code_entry_line(const struct code_entry *e, uint32_t instr)
{
	return linetable_ranges_lookup(e->ranges, e->nranges, instr);
}

static uint64_t hash_frames(const struct pyrace_frame *f, size_t n, int truncated)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)truncated;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ f[i].code) * 0x100000001b3ull;
		h = (h ^ f[i].instr) * 0x100000001b3ull;
	}
	return h ^ n;
}

uint32_t code_table_intern_stack(struct code_table *t, const struct pyrace_frame *frames, size_t n,
				 int truncated)
{
	if (n == 0 && !truncated)
		return 0;
	uint64_t h = hash_frames(frames, n, truncated);
	for (uint64_t salt = 0;; salt++) {
		int created;
		uint64_t *slot = u64map_put(&t->by_hash, h, salt, &created);
		if (!slot)
			return UINT32_MAX;
		if (!created) {
			const struct stack_entry *s = &t->stacks[*slot - 1];
			if (s->nframes == n && s->truncated == truncated &&
			    (n == 0 ||
			     memcmp(&t->frames[s->offset], frames, n * sizeof(*frames)) == 0))
				return (uint32_t)(*slot - 1);
			continue;
		}
		if (grow_array((void **)&t->stacks, &t->stacks_cap, t->nstacks + 1,
			       sizeof(*t->stacks), NULL) ||
		    grow_array((void **)&t->frames, &t->frames_cap, t->nframes + n,
			       sizeof(*t->frames), NULL)) {
			u64map_remove(&t->by_hash, h, salt);
			return UINT32_MAX;
		}
		if (n)
			memcpy(&t->frames[t->nframes], frames, n * sizeof(*frames));
		t->stacks[t->nstacks] = (struct stack_entry){.offset = (uint32_t)t->nframes,
							     .nframes = (uint16_t)n,
							     .truncated = (uint8_t)truncated};
		t->nframes += n;
		*slot = ++t->nstacks;
		return (uint32_t)(t->nstacks - 1);
	}
}

const struct stack_entry *code_table_stack(const struct code_table *t, uint32_t id)
{
	return id < t->nstacks ? &t->stacks[id] : NULL;
}
