/* Following the process tree of traced processes in the kernel (bpf/tree.bpf.c): forks and
 * execs are reported as struct pyrace_proc_event, each new program stopped until continued. */
#ifndef PYRACE_TREE_H
#define PYRACE_TREE_H

#include <stddef.h>
#include <sys/types.h>

struct tree;

/* Loads and attaches the tracepoints. NULL with one line for the user in `why`. */
struct tree *tree_open(char *why, size_t whylen);
/* Processes forked or executed by `pid` from now on are reported (and so are theirs). */
int tree_follow(struct tree *t, pid_t pid);
void tree_forget(struct tree *t, pid_t pid);
int tree_ring_fd(const struct tree *t);
/* Detaches the programs: no process is stopped by them from now on. The ring stays readable,
 * for the events (and stopped processes) still in it. */
void tree_stop(struct tree *t);
void tree_close(struct tree *t);

#endif
