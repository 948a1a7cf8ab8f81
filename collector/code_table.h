/* Code objects of a trace (from TREC_CODE records) and interned Python stacks. */
#ifndef PYRACE_CODE_TABLE_H
#define PYRACE_CODE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "linetable.h"
#include "trace_format.h"
#include "u64map.h"

struct code_entry {
	char *file;
	char *qualname;
	int first_line;
	struct linetable_range *ranges;
	size_t nranges;
};

struct stack_entry {
	uint32_t offset; /* into stack_table.frames */
	uint16_t nframes;
	uint8_t truncated;
};

struct code_table {
	struct u64map by_addr; /* code address -> entry index + 1 */
	uint64_t replaced;     /* code objects that took the address of an earlier one */
	struct code_entry *entries;
	size_t n, cap;
	/* interned stacks */
	struct u64map by_hash; /* (hash, salt) -> stack id + 1 */
	struct stack_entry *stacks;
	size_t nstacks, stacks_cap;
	struct pyrace_frame *frames;
	size_t nframes, frames_cap;
};

void code_table_init(struct code_table *t);
void code_table_free(struct code_table *t);
/* Parses one TREC_CODE payload; a later record for the same address replaces the earlier. */
int code_table_add(struct code_table *t, struct trace_buf *payload);
const struct code_entry *code_table_get(const struct code_table *t, uint64_t code);
/* Source line of an instruction, -1 when unknown. */
int code_entry_line(const struct code_entry *e, uint32_t instr);

/* Interns a stack; returns its id (0 is the empty stack) or UINT32_MAX when out of memory. */
uint32_t code_table_intern_stack(struct code_table *t, const struct pyrace_frame *frames, size_t n,
				 int truncated);
const struct stack_entry *code_table_stack(const struct code_table *t, uint32_t id);

#endif
