/* LEB128 variable-length integers and zigzag signed deltas, the numbers of compact trace records.
 */
#ifndef PYRACE_VARINT_H
#define PYRACE_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX_BYTES 10

/* Writes `v` at `p` (room for VARINT_MAX_BYTES); returns the bytes written. */
static inline size_t varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Reads one number from [*p, end); returns 0 and advances *p, or -1 when the bytes end first or
 * the number is longer than 64 bits. */
static inline int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *q = *p;
	if (q < end && *q < 0x80) {
		*v = *q;
		*p = q + 1;
		return 0;
	}
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (q == end)
			return -1;
		uint8_t b = *q++;
		x |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80) {
			*v = x;
			*p = q;
			return 0;
		}
	}
	return -1;
}

/* Signed differences as small unsigned numbers: 0, -1, 1, -2, 2 ... -> 0, 1, 2, 3, 4 ... */
static inline uint64_t zigzag(int64_t d)
{
	return ((uint64_t)d << 1) ^ (uint64_t)(d >> 63);
}

static inline int64_t unzigzag(uint64_t z)
{
	return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

#endif
