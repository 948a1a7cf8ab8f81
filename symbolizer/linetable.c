/* Decoder for the CPython 3.11+ location table (co_linetable), as described in CPython's
 * Objects/locations.md (3.11 to 3.14 share the format).
 *
 * Each entry starts with a byte with bit 7 set: bits 3-6 are the entry code, bits 0-2 the number
 * of code units covered minus one. Its payload is the following bytes, none of which has bit 7
 * set. Codes 0-9 (short form, one payload byte) and 10-12 (one-line form, two payload bytes)
 * move the line by 0 and code - 10; code 13 (no columns) by a signed varint; code 14 (long form)
 * by a signed varint followed by three unsigned varints (end line, column, end column); code 15
 * marks instructions without a location and leaves the line untouched. */
#include "linetable.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>

enum {
	CODE_ONE_LINE_FIRST = 10,
	CODE_ONE_LINE_LAST = 12,
	CODE_NO_COLUMNS = 13,
	CODE_LONG = 14,
	CODE_NO_LOCATION = 15,
};

#define ENTRY_START    0x80
#define VARINT_MORE    0x40
#define VARINT_PAYLOAD 0x3f
/* The running line is kept within +-2^40 so corrupt deltas can never overflow it. */
#define LINE_STATE_LIMIT ((int64_t)1 << 40)

struct cursor {
	const uint8_t *pos;
	const uint8_t *end;
	uint64_t unit; /* code unit where the entry at pos starts */
	int64_t line;  /* co_firstlineno plus every line delta so far */
};

struct entry {
	uint64_t start;
	uint64_t end;
	int line; /* -1: no line */
};

/* Reads a varint (6-bit chunks, least significant first) from [*p, end); bits past 32 are
 * dropped. Returns false when the varint is not terminated before `end`. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint32_t *value)
{
	uint32_t v = 0;
	unsigned int shift = 0;
	uint8_t byte;

	do {
		if (*p >= end)
			return false;
		byte = *(*p)++;
		if (shift < 32) {
			v |= (uint32_t)(byte & VARINT_PAYLOAD) << shift;
			shift += 6;
		}
	} while (byte & VARINT_MORE);
	*value = v;
	return true;
}

/* Signed varint: an unsigned varint whose lowest bit is the sign. */
static bool read_signed_varint(const uint8_t **p, const uint8_t *end, int64_t *value)
{
	uint32_t v;

	if (!read_varint(p, end, &v))
		return false;
	*value = (v & 1) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
	return true;
}

/* Decodes the entry at the cursor and moves past it. Returns 1 with *e filled, 0 at the end of
 * the table, -1 when the entry is malformed (no start bit, payload of the wrong size). */
static int next_entry(struct cursor *c, struct entry *e)
{
	const uint8_t *p, *payload_end;
	uint32_t ignored;
	int64_t delta = 0;
	bool ok;
	int code;

	if (c->pos >= c->end)
		return 0;
	if (!(*c->pos & ENTRY_START))
		return -1;
	code = (*c->pos >> 3) & 15;
	p = c->pos + 1;
	payload_end = p;
	while (payload_end < c->end && !(*payload_end & ENTRY_START))
		payload_end++;

	switch (code) {
	case CODE_NO_LOCATION:
		ok = p == payload_end;
		break;
	case CODE_LONG:
		ok = read_signed_varint(&p, payload_end, &delta) &&
		     read_varint(&p, payload_end, &ignored) &&
		     read_varint(&p, payload_end, &ignored) &&
		     read_varint(&p, payload_end, &ignored) && p == payload_end;
		break;
	case CODE_NO_COLUMNS:
		ok = read_signed_varint(&p, payload_end, &delta) && p == payload_end;
		break;
	default:
		if (code >= CODE_ONE_LINE_FIRST && code <= CODE_ONE_LINE_LAST) {
			delta = code - CODE_ONE_LINE_FIRST;
			ok = payload_end - p == 2;
		} else {
			ok = payload_end - p == 1;
		}
		break;
	}
	if (!ok)
		return -1;

	c->line += delta;
	if (c->line > LINE_STATE_LIMIT)
		c->line = LINE_STATE_LIMIT;
	if (c->line < -LINE_STATE_LIMIT)
		c->line = -LINE_STATE_LIMIT;
	e->start = c->unit;
	e->end = c->unit + (*c->pos & 7) + 1;
	/* A line outside [0, INT_MAX] can only come from a corrupt table or a wrong first_line. */
	if (code == CODE_NO_LOCATION || c->line < 0 || c->line > INT_MAX)
		e->line = -1;
	else
		e->line = (int)c->line;
	c->unit = e->end;
	c->pos = payload_end;
	return 1;
}

static void cursor_init(struct cursor *c, const uint8_t *table, size_t len, int first_line)
{
	c->pos = table;
	c->end = table + len;
	c->unit = 0;
	c->line = first_line;
}

int linetable_line_for_instr(const uint8_t *table, size_t len, int first_line, uint32_t instr_index)
{
	struct cursor c;
	struct entry e;

	if (!table)
		return -1;
	cursor_init(&c, table, len, first_line);
	while (next_entry(&c, &e) == 1) {
		if (instr_index < e.end)
			return e.line;
	}
	return -1;
}

/* Walks the table producing merged ranges; stores them in `out` when it is not NULL. Returns the
 * number of ranges, or -1 when the table is corrupt or covers more than UINT32_MAX code units. */
static long long build_ranges(const uint8_t *table, size_t len, int first_line,
			      struct linetable_range *out)
{
	struct cursor c;
	struct entry e;
	struct linetable_range last = {0, 0, -1};
	long long n = 0;
	int rc;

	cursor_init(&c, table, len, first_line);
	while ((rc = next_entry(&c, &e)) == 1) {
		if (e.end > UINT32_MAX)
			return -1;
		if (e.line < 0)
			continue;
		if (n > 0 && last.end == e.start && last.line == e.line) {
			last.end = (uint32_t)e.end;
		} else {
			last = (struct linetable_range){(uint32_t)e.start, (uint32_t)e.end, e.line};
			n++;
		}
		if (out)
			out[n - 1] = last;
	}
	return rc < 0 ? -1 : n;
}

int linetable_decode(const uint8_t *table, size_t len, int first_line, struct linetable_range **out,
		     size_t *count)
{
	long long n;

	if (!out || !count)
		return -1;
	*out = NULL;
	*count = 0;
	if (!table)
		return len == 0 ? 0 : -1;
	n = build_ranges(table, len, first_line, NULL);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	*out = malloc((size_t)n * sizeof(**out));
	if (!*out)
		return -1;
	build_ranges(table, len, first_line, *out);
	*count = (size_t)n;
	return 0;
}

int linetable_ranges_lookup(const struct linetable_range *ranges, size_t count,
			    uint32_t instr_index)
{
	size_t lo = 0, hi = count;

	if (!ranges)
		return -1;
	/* Find the first range that ends after instr_index. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ranges[mid].end <= instr_index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < count && ranges[lo].start <= instr_index)
		return ranges[lo].line;
	return -1;
}
