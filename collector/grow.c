/* Growing an array by doubling. */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int grow_array(void **p, size_t *cap, size_t need, size_t size, int *out_of_memory)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;
	while (c < need && c <= SIZE_MAX / 2)
		c *= 2;
	void *q = c >= need && c <= SIZE_MAX / size ? realloc(*p, c * size) : NULL;
	if (!q) {
		if (out_of_memory)
			*out_of_memory = 1;
		return -1;
	}
	memset((char *)q + *cap * size, 0, (c - *cap) * size);
	*p = q;
	*cap = c;
	return 0;
}
