/* Tracing one command from its start into a trace file. */
#include "record.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "consumer.h"
#include "global_reads.h"
#include "launcher.h"
#include "probes.h"
#include "status_line.h"
#include "trace_io.h"

static volatile sig_atomic_t stop_requests;
static volatile pid_t forward_to;

static void on_signal(int sig)
{
	/* the program is in our process group and got SIGINT itself; SIGTERM is passed on */
	if (sig == SIGTERM && forward_to > 0)
		kill(forward_to, SIGTERM);
	stop_requests++;
}

int record_check_privileges(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "pyrace: must run as root (it attaches eBPF uprobes: CAP_BPF, "
				"CAP_PERFMON and CAP_SYS_ADMIN)\n");
		return 1;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_KPROBE, NULL) != 1) {
		fprintf(stderr, "pyrace: this kernel does not allow loading eBPF kprobe/uprobe "
				"programs\n");
		return 1;
	}
	return 0;
}

double record_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int wait_untraced(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

int record_check_modes(const struct record_options *opts)
{
	if (opts->global_reads && opts->no_reads) {
		fprintf(stderr,
			"pyrace: --global-reads records reads, --no-reads none: choose one\n");
		return 1;
	}
	return 0;
}

void record_write_target(struct trace_writer *w, pid_t pid, const struct interp_info *in,
			 char *const argv[])
{
	struct trace_buf b = {0};
	trace_put_u32(&b, (uint32_t)pid);
	trace_put_str(&b, in->version);
	trace_put_str(&b, in->exe);
	trace_put_str(&b, in->build ? in->build : "unknown");
	uint32_t argc = 0;
	while (argv && argv[argc])
		argc++;
	trace_put_u32(&b, argc);
	for (uint32_t i = 0; i < argc; i++)
		trace_put_str(&b, argv[i]);
	if (!b.error)
		trace_writer_record(w, TREC_TARGET, b.data, (uint32_t)b.len);
	if (in->no_reads || in->global_reads) {
		trace_buf_reset(&b);
		trace_put_u32(&b, (in->no_reads ? TMODE_NO_READS : 0) |
				      (in->global_reads ? TMODE_GLOBAL_READS : 0));
		if (!b.error)
			trace_writer_record(w, TREC_MODE, b.data, (uint32_t)b.len);
	}
	trace_buf_free(&b);
}

void record_write_process(struct trace_writer *w, uint16_t number, pid_t pid, pid_t ppid,
			  const char *executable, char *const argv[])
{
	struct trace_buf b = {0};
	trace_put_u32(&b, number);
	trace_put_u32(&b, (uint32_t)pid);
	trace_put_u32(&b, (uint32_t)ppid);
	trace_put_str(&b, executable);
	uint32_t argc = 0;
	while (argv && argv[argc])
		argc++;
	trace_put_u32(&b, argc);
	for (uint32_t i = 0; i < argc; i++)
		trace_put_str(&b, argv[i]);
	if (!b.error)
		trace_writer_record(w, TREC_PROCESS, b.data, (uint32_t)b.len);
	trace_buf_free(&b);
}

static void write_stats(struct trace_writer *w, const struct trace_stats *s)
{
	struct trace_buf b = {0};
	trace_put_u64(&b, s->lost_events);
	trace_put_u64(&b, s->truncated_stacks);
	trace_put_u64(&b, s->unresolved_code);
	trace_put_u64(&b, s->duration_ns);
	trace_put_u32(&b, (uint32_t)s->exit_status);
	trace_put_u32(&b, s->ended_early);
	trace_put_u32(&b, s->untraced_processes);
	if (!b.error)
		trace_writer_record(w, TREC_STATS, b.data, (uint32_t)b.len);
	trace_buf_free(&b);
}

int record_finish(struct consumer *c, struct probes *const *probes, size_t nprobes,
		  struct trace_writer *w, struct trace_stats *stats, double start, const char *path)
{
	consumer_drain(c);
	for (size_t i = 0; i < nprobes; i++) {
		stats->lost_events += probes_lost_events(probes[i]);
		stats->truncated_stacks += probes_truncated_stacks(probes[i]);
	}
	stats->unresolved_code = c->unresolved_code;
	stats->duration_ns = (uint64_t)((record_now() - start) * 1e9);
	for (size_t i = 0; i < nprobes; i++)
		probes_detach(probes[i]);
	int failed = c->write_failed;
	consumer_free(c);
	write_stats(w, stats);
	if (trace_writer_close(w) || failed) {
		fprintf(stderr, "pyrace: writing the trace %s failed\n", path);
		return 1;
	}
	return 0;
}

/* The program cannot be traced: let it finish untraced, as asked, then fail. */
static int run_untraced(struct launch *l, const char *why)
{
	fprintf(stderr, "pyrace: %s; running it untraced\n", why);
	launch_resume(l);
	wait_untraced(l->pid);
	return 2;
}

int record_command(char *const argv[], const struct record_options *opts)
{
	if (record_check_modes(opts))
		return 1;
	struct launch l;
	switch (launch_until_python(argv, opts->debug_dir, &l)) {
	case LAUNCH_NOT_FOUND:
		if (l.exec_errno == ENOENT)
			fprintf(stderr, "pyrace: command not found: %s\n", argv[0]);
		else
			fprintf(stderr, "pyrace: cannot execute %s: %s\n", argv[0],
				strerror(l.exec_errno));
		return 1;
	case LAUNCH_EXITED:
		fprintf(stderr, "pyrace: %s is not a CPython interpreter and ran untraced\n",
			argv[0]);
		return 2;
	case LAUNCH_ERROR:
		fprintf(stderr, "pyrace: cannot start %s: %s\n", argv[0], strerror(errno));
		return 1;
	case LAUNCH_PYTHON:
		break;
	}
	if (l.interp_status != INTERP_OK)
		return run_untraced(&l, l.why);

	struct trace_writer *w = trace_writer_open(opts->trace_path);
	if (!w) {
		char why[512];
		snprintf(why, sizeof(why), "cannot create trace %s: %s", opts->trace_path,
			 strerror(errno));
		run_untraced(&l, why);
		return 1;
	}
	if (opts->no_reads)
		interp_skip_reads(&l.interp);
	l.interp.nested_depth = opts->nested_depth;
	char why[512];
	if (opts->global_reads && interp_enable_global_reads(&l.interp, why, sizeof(why))) {
		trace_writer_close(w);
		return run_untraced(&l, why);
	}
	record_write_target(w, l.pid, &l.interp, argv);
	int not_permitted;
	struct probes *probes =
	    probes_attach(&l.interp, l.pid, 1, why, sizeof(why), &not_permitted);
	if (!probes) {
		trace_writer_close(w);
		int rc = run_untraced(&l, why);
		return not_permitted ? 1 : rc;
	}
	struct consumer c;
	uint16_t number = 0;
	if (consumer_init(&c, probes_ring_fd(probes), w) ||
	    !(number = consumer_add_process(&c, l.pid, &l.interp))) {
		if (c.rb)
			consumer_free(&c);
		probes_detach(probes);
		trace_writer_close(w);
		return run_untraced(&l, "cannot read the BPF ring buffer");
	}
	record_write_process(w, number, l.pid, 0, l.interp.exe, argv);

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	struct sigaction old_int, old_term;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	forward_to = l.pid;
	stop_requests = 0;

	double start = record_now();
	launch_resume(&l);
	struct trace_stats stats = {.exit_status = -1};
	int continued = 0;
	struct status_line status;
	status_line_init(&status, 0);
	c.live_counts = status.enabled;
	for (;;) {
		consumer_poll(&c, 50);
		status_line_tick(&status, &c, &probes, 1);
		int status;
		pid_t r = waitpid(l.pid, &status, WNOHANG | WUNTRACED);
		if (r == l.pid && WIFSTOPPED(status)) {
			/* The program stopped itself as its interpreter began to shut down: read
			 * everything, then let it go on. Found through waitpid, not through the
			 * event, which a full ring buffer may have lost. A SIGSTOP of the user's
			 * after that one is left alone. */
			if (WSTOPSIG(status) == SIGSTOP && !continued) {
				consumer_drain(&c);
				continued = 1;
				kill(l.pid, SIGCONT);
			}
			continue;
		}
		if (r == l.pid) {
			stats.exit_status = status;
			stats.ended_early = WIFSIGNALED(status);
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
		if (stop_requests > 1) {
			/* asked twice: stop tracing now, the program goes on untraced */
			stats.ended_early = 1;
			break;
		}
	}
	status_line_clear(&status);
	int rc = record_finish(&c, &probes, 1, w, &stats, start, opts->trace_path);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (stats.ended_early && stats.exit_status == -1)
		wait_untraced(l.pid);
	return rc;
}
