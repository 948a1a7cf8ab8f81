/* Loading the BPF programs and attaching them to one traced process. */
#ifndef PYRACE_PROBES_H
#define PYRACE_PROBES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "interp.h"

struct probes;

/* Loads the programs configured for `in` and attaches every found probe point, filtered to
 * `pid`. With `stop_at_finalize`, the program stops itself (SIGSTOP) when its interpreter
 * starts shutting down, for the caller to drain events and continue it. Returns NULL with one line
 * for the user in `why`; `*not_permitted` tells a missing privilege apart from other failures. */
struct probes *probes_attach(const struct interp_info *in, pid_t pid, int stop_at_finalize,
			     char *why, size_t whylen, int *not_permitted);
/* Detaches every link and frees the programs and maps: nothing of ours stays in the kernel. */
void probes_detach(struct probes *p);

int probes_ring_fd(const struct probes *p);
/* Adds a dict to the kernel's watched set (kind: enum pyrace_watch_kind). 0 on success. */
int probes_watch(struct probes *p, uint64_t dict, int kind);
size_t probes_attached(const struct probes *p);
/* Kernel-side counters summed over CPUs. */
uint64_t probes_lost_events(const struct probes *p);
uint64_t probes_truncated_stacks(const struct probes *p);

#endif
