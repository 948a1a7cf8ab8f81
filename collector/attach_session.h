/* The processes of one attach session: each traced process with its interpreter's probes, the
 * address space it has in the trace, and the process tree followed around it. */
#ifndef PYRACE_ATTACH_SESSION_H
#define PYRACE_ATTACH_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "consumer.h"
#include "events.h"
#include "probes.h"
#include "record.h"
#include "tree.h"

#define SESSION_MAX_INTERPS 16

/* One interpreter file, loaded once for all the processes that run it. */
struct interp_slot {
	struct interp_info *in;
	char *ld_library_path; /* the environment it was inspected with */
	struct probes *probes;
};

struct traced {
	pid_t pid, ppid;
	int pidfd;
	struct probes *probes; /* NULL: not a supported CPython, followed for its children only */
	int root;	       /* given with -p */
	int gone;
	size_t modules, dicts; /* watched when attached */
	size_t containers;     /* lists and sets bound to globals, watched when attached */
};

struct session {
	const struct record_options *opts;
	struct trace_writer *w;
	struct consumer c;
	int have_consumer;
	int wrote_target;
	struct interp_slot slots[SESSION_MAX_INTERPS];
	size_t nslots;
	struct traced *procs;
	size_t nprocs, procs_cap, live;
	struct tree *tree;
	struct pyrace_proc_event *queue; /* forks and execs waiting to be handled */
	size_t nqueue, queue_cap;
	uint32_t untraced;
	char **unsupported; /* programs already said to be untraceable */
	size_t nunsupported;
};

/* Starts tracing a process that runs now (`seed`: its modules are read and watched; not for a
 * program that has just been executed, which has none yet). Returns 0, or the pyrace exit
 * status after one line on stderr (1 environment, 2 not traceable). A process that is not a
 * `root` (one given with -p) and is not a supported CPython is followed untraced instead. */
int session_trace(struct session *s, pid_t pid, pid_t ppid, int root, int seed);
/* Follows `pid` without tracing it: it is not a supported CPython (counted and said once per
 * program). */
struct traced *session_follow_untraced(struct session *s, pid_t pid, pid_t ppid, const char *why);
struct traced *session_find(struct session *s, pid_t pid);
/* The ring callback of the process tree: queues the event. */
int session_queue_event(void *ctx, void *data, size_t size);
/* Handles the queued forks and execs, continuing every process they stopped. With `only_resume`
 * (at the end), nothing is attached. */
void session_handle_queue(struct session *s, int only_resume);
/* Notices the processes that ended; returns how many are left. */
size_t session_reap(struct session *s);
void session_free(struct session *s);

#endif
