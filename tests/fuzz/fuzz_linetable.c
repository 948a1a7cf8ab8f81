/* libFuzzer target: co_linetable decoding. Input: first_line (4 bytes), an instruction index (4
 * bytes), then the table. Whenever the whole table decodes, looking an instruction up in the
 * decoded ranges must give what the direct decoder gives, and the ranges must be well formed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linetable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_instr(const struct linetable_range *ranges, size_t count, const uint8_t *table,
			size_t len, int first_line, uint32_t instr)
{
	int direct = linetable_line_for_instr(table, len, first_line, instr);
	int looked_up = linetable_ranges_lookup(ranges, count, instr);

	if (direct != looked_up) {
		fprintf(stderr,
			"linetable mismatch: instr %u first_line %d: direct %d, ranges %d\n", instr,
			first_line, direct, looked_up);
		abort();
	}
}

static void check_ranges(const struct linetable_range *ranges, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		const struct linetable_range *r = &ranges[i];

		if (r->start >= r->end || r->line < 0) {
			fprintf(stderr, "linetable range %zu malformed: [%u, %u) line %d\n", i,
				r->start, r->end, r->line);
			abort();
		}
		if (i > 0 && (ranges[i - 1].end > r->start ||
			      (ranges[i - 1].end == r->start && ranges[i - 1].line == r->line))) {
			fprintf(stderr, "linetable ranges %zu and %zu overlap or are unmerged\n",
				i - 1, i);
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int32_t first_line;
	uint32_t instr;
	struct linetable_range *ranges;
	size_t count;

	if (size < 8)
		return 0;
	memcpy(&first_line, data, 4);
	memcpy(&instr, data + 4, 4);
	/* a copy of exactly the table's size, so that ASan sees any read past its end */
	size_t len = size - 8;
	uint8_t *table = malloc(len ? len : 1);
	if (!table)
		return 0;
	memcpy(table, data + 8, len);

	int direct = linetable_line_for_instr(table, len, first_line, instr);
	if (direct < -1)
		abort();
	if (linetable_decode(table, len, first_line, &ranges, &count) == 0) {
		check_ranges(ranges, count);
		check_instr(ranges, count, table, len, first_line, instr);
		check_instr(ranges, count, table, len, first_line, 0);
		check_instr(ranges, count, table, len, first_line, UINT32_MAX);
		for (size_t i = 0; i < count && i < 64; i++) {
			check_instr(ranges, count, table, len, first_line, ranges[i].start);
			check_instr(ranges, count, table, len, first_line, ranges[i].end - 1);
			check_instr(ranges, count, table, len, first_line, ranges[i].end);
		}
		free(ranges);
	} else if (ranges || count) {
		fprintf(stderr, "linetable_decode failed but returned ranges\n");
		abort();
	}
	free(table);
	return 0;
}
