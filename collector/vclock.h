/* Vector clocks over thread indices, growing as threads appear. */
#ifndef PYRACE_VCLOCK_H
#define PYRACE_VCLOCK_H

#include <stddef.h>
#include <stdint.h>

struct vclock {
	uint32_t *c;
	uint32_t n;
};

void vclock_free(struct vclock *v);
/* Inline: the race check reads a clock entry for every remembered access it compares. */
static inline uint32_t vclock_get(const struct vclock *v, uint32_t thread)
{
	return thread < v->n ? v->c[thread] : 0;
}

int vclock_set(struct vclock *v, uint32_t thread, uint32_t value);
/* dst = max(dst, src) component-wise. */
int vclock_join(struct vclock *dst, const struct vclock *src);
int vclock_copy(struct vclock *dst, const struct vclock *src);

#endif
