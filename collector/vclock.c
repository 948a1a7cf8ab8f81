/* Vector clocks over thread indices, growing as threads appear. */
#include "vclock.h"

#include <stdlib.h>
#include <string.h>

void vclock_free(struct vclock *v)
{
	free(v->c);
	v->c = NULL;
	v->n = 0;
}

uint32_t vclock_get(const struct vclock *v, uint32_t thread)
{
	return thread < v->n ? v->c[thread] : 0;
}

static int reserve(struct vclock *v, uint32_t n)
{
	if (n <= v->n)
		return 0;
	uint32_t cap = v->n ? v->n : 4;
	while (cap < n)
		cap *= 2;
	uint32_t *c = realloc(v->c, cap * sizeof(*c));
	if (!c)
		return -1;
	memset(c + v->n, 0, (cap - v->n) * sizeof(*c));
	v->c = c;
	v->n = cap;
	return 0;
}

int vclock_set(struct vclock *v, uint32_t thread, uint32_t value)
{
	if (reserve(v, thread + 1))
		return -1;
	v->c[thread] = value;
	return 0;
}

int vclock_join(struct vclock *dst, const struct vclock *src)
{
	if (reserve(dst, src->n))
		return -1;
	for (uint32_t i = 0; i < src->n; i++)
		if (src->c[i] > dst->c[i])
			dst->c[i] = src->c[i];
	return 0;
}

int vclock_copy(struct vclock *dst, const struct vclock *src)
{
	if (reserve(dst, src->n))
		return -1;
	if (src->n)
		memcpy(dst->c, src->c, src->n * sizeof(*src->c));
	if (dst->n > src->n)
		memset(dst->c + src->n, 0, (dst->n - src->n) * sizeof(*dst->c));
	return 0;
}
