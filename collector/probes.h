/* Loading the BPF programs for one interpreter file and attaching them to traced processes. */
#ifndef PYRACE_PROBES_H
#define PYRACE_PROBES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "interp.h"

struct probes;

/* Loads the programs configured for `in` (which must outlive the result), attached to no process
 * yet. Returns NULL with one line for the user in `why`. */
struct probes *probes_load(const struct interp_info *in, int stop_at_finalize, char *why,
			   size_t whylen, int *not_permitted);
/* Attaches every found probe point, filtered to `pid` (a process that maps `in`'s files). 0 on
 * success, otherwise a negative errno with one line in `why`. */
int probes_add_process(struct probes *p, pid_t pid, char *why, size_t whylen, int *not_permitted);
/* Detaches the links of `pid` and forgets the dicts it watched. */
void probes_remove_process(struct probes *p, pid_t pid);
int probes_has_process(const struct probes *p, pid_t pid);
/* Forgets every dict `pid` watched (its address space was replaced or is gone). */
void probes_forget_watched(struct probes *p, pid_t pid);
const struct interp_info *probes_interp(const struct probes *p);

/* probes_load and probes_add_process for one process. With `stop_at_finalize`, the program stops
 * itself (SIGSTOP) when its interpreter starts shutting down, for the caller to drain events and
 * continue it. Returns NULL with one line for the user in `why`; `*not_permitted` tells a missing
 * privilege apart from other failures. */
struct probes *probes_attach(const struct interp_info *in, pid_t pid, int stop_at_finalize,
			     char *why, size_t whylen, int *not_permitted);
/* Detaches every link and frees the programs and maps: nothing of ours stays in the kernel. */
void probes_detach(struct probes *p);

int probes_ring_fd(const struct probes *p);
/* Adds a dict of process `pid` to the kernel's watched set (kind: enum pyrace_watch_kind). 0 on
 * success. */
int probes_watch(struct probes *p, pid_t pid, uint64_t dict, int kind);
size_t probes_attached(const struct probes *p);
/* Kernel-side counters summed over CPUs. */
uint64_t probes_lost_events(const struct probes *p);
uint64_t probes_truncated_stacks(const struct probes *p);

#endif
