/* The processes below some others, as /proc shows them now. */
#ifndef PYRACE_DESCENDANTS_H
#define PYRACE_DESCENDANTS_H

#include <stddef.h>
#include <sys/types.h>

struct descendant {
	pid_t pid;
	pid_t parent;
};

/* Every live descendant of `roots` (not the roots), each after its parent. Returns how many,
 * with a malloc'd array in `*out` (NULL when none or out of memory). */
size_t proc_descendants(const pid_t *roots, size_t nroots, struct descendant **out);

#endif
