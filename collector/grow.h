/* Growing an array by doubling, as every table of the analysis does. */
#ifndef PYRACE_GROW_H
#define PYRACE_GROW_H

#include <stddef.h>

/* Makes room for `need` elements of `size` bytes in *p (capacity *cap), zeroing the new ones.
 * On failure leaves *p as it was, sets *out_of_memory (when not NULL) and returns -1. */
int grow_array(void **p, size_t *cap, size_t need, size_t size, int *out_of_memory);
/* The same, starting at `first` elements rather than 16: for the many small arrays of which most
 * stay small (a key's reads). */
int grow_array_from(void **p, size_t *cap, size_t need, size_t size, size_t first,
		    int *out_of_memory);

/* Asks for huge pages under a large table (`bytes` from `p`), when the system gives them on
 * request: the analysis touches its big tables at random, and with 4 KiB pages most of those
 * touches also miss the TLB. A hint; nothing changes if it is refused. */
void grow_hint_huge(void *p, size_t bytes);

#endif
