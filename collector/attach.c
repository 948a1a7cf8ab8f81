/* Tracing processes that are already running, then leaving them exactly as they were. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach_session.h"
#include "descendants.h"
#include "record.h"
#include "status_line.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int check_exists(pid_t pid)
{
	if (kill(pid, 0) == 0)
		return 0;
	if (errno == ESRCH)
		fprintf(stderr, "pyrace: no such process: %d\n", pid);
	else
		fprintf(stderr, "pyrace: not permitted to trace process %d: %s\n", pid,
			strerror(errno));
	return 1;
}

/* The processes below the roots that exist now; the kernel reports those forked from here on. */
static int follow_tree(struct session *s, const pid_t *pids, size_t npids)
{
	char why[512];
	if (!(s->tree = tree_open(why, sizeof(why)))) {
		fprintf(stderr, "pyrace: %s\n", why);
		return 1;
	}
	if (consumer_add_ring_fn(&s->c, tree_ring_fd(s->tree), session_queue_event, s)) {
		fprintf(stderr, "pyrace: cannot read the BPF ring buffer\n");
		return 1;
	}
	for (size_t i = 0; i < npids; i++)
		tree_follow(s->tree, pids[i]);
	struct descendant *d;
	size_t n = proc_descendants(pids, npids, &d);
	for (size_t i = 0; i < n; i++) {
		/* followed first: a child it forks while we attach is reported, not missed */
		tree_follow(s->tree, d[i].pid);
		if (!session_find(s, d[i].pid))
			session_trace(s, d[i].pid, d[i].parent, 0, 1);
	}
	free(d);
	return 0;
}

static void say_attached(const struct session *s, double duration_s)
{
	const char *until = duration_s > 0 ? " or at the deadline" : "";
	const struct traced *first = &s->procs[0];
	const struct interp_info *in = probes_interp(first->probes);
	if (s->nprocs == 1 && !s->tree) {
		fprintf(stderr,
			"pyrace: attached to %d (%s, CPython %s): %zu modules, %zu global dicts, "
			"%zu global lists and sets; stop with Ctrl-C%s\n",
			first->pid, in->exe, in->version, first->modules, first->dicts,
			first->containers, until);
		return;
	}
	size_t traced = 0;
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct traced *t = &s->procs[i];
		if (!t->probes)
			continue;
		in = probes_interp(t->probes);
		fprintf(stderr,
			"pyrace: process %d (%s, CPython %s): %zu modules, %zu global dicts, %zu "
			"global lists and sets\n",
			t->pid, in->exe, in->version, t->modules, t->dicts, t->containers);
		traced++;
	}
	fprintf(stderr, "pyrace: attached to %zu %s%s; stop with Ctrl-C%s\n", traced,
		traced == 1 ? "process" : "processes",
		s->tree ? " and following their children" : "", until);
}

static int trace_roots(struct session *s, const pid_t *pids, size_t npids)
{
	for (size_t i = 0; i < npids; i++) {
		if (session_find(s, pids[i]))
			continue; /* given twice */
		int rc = session_trace(s, pids[i], 0, 1, 1);
		if (rc)
			return rc;
	}
	return s->opts->children ? follow_tree(s, pids, npids) : 0;
}

int record_attach(const pid_t *pids, size_t npids, double duration_s,
		  const struct record_options *opts)
{
	if (record_check_modes(opts))
		return 1;
	for (size_t i = 0; i < npids; i++)
		if (check_exists(pids[i]))
			return 1;
	struct session s = {.opts = opts};
	s.w = trace_writer_open(opts->trace_path);
	if (!s.w) {
		fprintf(stderr, "pyrace: cannot create trace %s: %s\n", opts->trace_path,
			strerror(errno));
		return 1;
	}
	int rc = trace_roots(&s, pids, npids);
	struct probes *all[SESSION_MAX_INTERPS];
	for (size_t i = 0; i < s.nslots; i++)
		all[i] = s.slots[i].probes;
	if (rc) {
		tree_stop(s.tree);
		if (s.have_consumer) {
			consumer_drain(&s.c);
			session_handle_queue(&s, 1);
			consumer_free(&s.c);
		}
		for (size_t i = 0; i < s.nslots; i++)
			probes_detach(all[i]);
		trace_writer_close(s.w);
		session_free(&s);
		return rc;
	}
	struct sigaction sa = {.sa_handler = on_stop_signal}, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	stop_requested = 0;
	say_attached(&s, duration_s);
	double start = record_now();
	struct trace_stats stats = {.exit_status = -1};
	struct status_line status;
	uint64_t seeded = 0;
	for (size_t i = 0; i < s.nprocs; i++)
		seeded += s.procs[i].dicts;
	status_line_init(&status, seeded);
	s.c.live_counts = status.enabled;
	while (!stop_requested) {
		consumer_poll(&s.c, 50);
		session_handle_queue(&s, 0);
		for (size_t i = 0; i < s.nslots; i++)
			all[i] = s.slots[i].probes;
		status_line_tick(&status, &s.c, all, s.nslots);
		if (session_reap(&s) == 0) {
			stats.ended_early = 1; /* the targets ended while we watched */
			break;
		}
		if (duration_s > 0 && record_now() - start >= duration_s)
			break;
	}
	status_line_clear(&status);
	/* no process is stopped for us from here on; those already stopped are let go */
	tree_stop(s.tree);
	consumer_drain(&s.c);
	session_handle_queue(&s, 1);
	stats.untraced_processes = s.untraced;
	for (size_t i = 0; i < s.nslots; i++)
		all[i] = s.slots[i].probes;
	rc = record_finish(&s.c, all, s.nslots, s.w, &stats, start, opts->trace_path);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	session_free(&s);
	return rc;
}
