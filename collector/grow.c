/* Growing an array by doubling. */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE  ((size_t)2 << 20)
#define HUGE_WORTH (4 * HUGE_PAGE)

void grow_hint_huge(void *p, size_t bytes)
{
	if (bytes < HUGE_WORTH)
		return;
	uintptr_t start = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	uintptr_t end = ((uintptr_t)p + bytes) & ~(HUGE_PAGE - 1);
	if (end > start)
		madvise((void *)start, end - start, MADV_HUGEPAGE);
}

int grow_array(void **p, size_t *cap, size_t need, size_t size, int *out_of_memory)
{
	return grow_array_from(p, cap, need, size, 16, out_of_memory);
}

int grow_array_from(void **p, size_t *cap, size_t need, size_t size, size_t first,
		    int *out_of_memory)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : first;
	while (c < need && c <= SIZE_MAX / 2)
		c *= 2;
	void *q = c >= need && c <= SIZE_MAX / size ? realloc(*p, c * size) : NULL;
	if (!q) {
		if (out_of_memory)
			*out_of_memory = 1;
		return -1;
	}
	grow_hint_huge(q, c * size);
	memset((char *)q + *cap * size, 0, (c - *cap) * size);
	*p = q;
	*cap = c;
	return 0;
}
