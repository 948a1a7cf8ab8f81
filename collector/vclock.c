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
	/* four entries at a time (a join at every acquire, over every thread): the compiler's
	 * vector extension, which plain -O2 does not vectorise this loop into by itself */
	typedef uint32_t quad __attribute__((vector_size(16)));
	uint32_t i = 0;
	for (; i + 4 <= src->n; i += 4) {
		quad d, s;
		memcpy(&d, dst->c + i, sizeof(d));
		memcpy(&s, src->c + i, sizeof(s));
		quad greater = (quad)(d > s);
		d = (d & greater) | (s & ~greater);
		memcpy(dst->c + i, &d, sizeof(d));
	}
	for (; i < src->n; i++)
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
