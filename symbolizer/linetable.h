/* Maps instruction offsets to source lines using CPython 3.11+ co_linetable location tables. */
#ifndef PYRACE_LINETABLE_H
#define PYRACE_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* Code units [start, end) (a code unit is 2 bytes of co_code) all belong to source line `line`. */
struct linetable_range {
	uint32_t start;
	uint32_t end;
	int line;
};

/* Returns the source line for the code unit at index `instr_index` (byte offset / 2) of a code
 * object whose co_firstlineno is `first_line` and whose co_linetable bytes are `table[0..len)`.
 * Returns -1 when that instruction has no line (code 15) or lies beyond the table; never reads
 * outside table[0..len) whatever the bytes are (truncated/corrupt input must be safe). Entries
 * before a corrupt one still give their lines; instructions from the corrupt entry on give -1. */
int linetable_line_for_instr(const uint8_t *table, size_t len, int first_line,
			     uint32_t instr_index);

/* Decodes the whole table into `*count` ranges sorted by start, non-overlapping, adjacent ranges of
 * equal line merged, instructions without a line left out. Returns 0 with `*out` to be released
 * with free() (NULL when `*count` is 0), or -1 with `*out` NULL and `*count` 0 when the table is
 * corrupt or memory runs out. */
int linetable_decode(const uint8_t *table, size_t len, int first_line, struct linetable_range **out,
		     size_t *count);

/* Binary search over ranges from linetable_decode(): the line of `instr_index`, or -1. */
int linetable_ranges_lookup(const struct linetable_range *ranges, size_t count,
			    uint32_t instr_index);

#endif /* PYRACE_LINETABLE_H */
