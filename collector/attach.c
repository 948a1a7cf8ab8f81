/* Tracing a process that is already running, then leaving it exactly as it was. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "events.h"
#include "live_walk.h"
#include "record.h"
#include "status_line.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* argv of the process, from /proc/PID/cmdline; a NULL-terminated array in one allocation. */
static char **read_cmdline(pid_t pid)
{
	char path[64], buf[8192];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	size_t argc = 0;
	for (ssize_t i = 0; i < n; i++)
		argc += buf[i] == '\0';
	char **argv = calloc(1, (argc + 1) * sizeof(char *) + (size_t)n + 1);
	if (!argv)
		return NULL;
	char *text = (char *)(argv + argc + 1);
	memcpy(text, buf, (size_t)n + 1);
	for (size_t i = 0, off = 0; i < argc; i++, off += strlen(text + off) + 1)
		argv[i] = text + off;
	return argv;
}

static char *read_ld_library_path(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *entry = NULL, *found = NULL;
	size_t cap = 0;
	while (!found && getdelim(&entry, &cap, '\0', f) > 0)
		if (strncmp(entry, "LD_LIBRARY_PATH=", 16) == 0)
			found = strdup(entry + 16);
	free(entry);
	fclose(f);
	return found;
}

struct seed {
	struct probes *probes;
	struct trace_writer *writer;
	pid_t pid;
	size_t modules, dicts;
};

/* A watch that happened before we attached: into the kernel's set and into the trace, in that
 * order, so that the trace names the dict before any access to it. */
static void seed_watch(struct seed *s, uint64_t dict, uint64_t aux, int kind, const char *name)
{
	if (probes_watch(s->probes, dict, kind))
		return;
	struct pyrace_event e;
	memset(&e, 0, sizeof(e));
	e.type = PYEV_WATCH;
	e.op = (uint8_t)kind;
	e.pid = e.tid = (uint32_t)s->pid;
	e.obj = dict;
	e.aux = aux;
	e.key_kind = PYKEY_STR;
	size_t len = strlen(name);
	e.key_len = (uint8_t)(len < PYRACE_KEY_MAX ? len : PYRACE_KEY_MAX);
	memcpy(e.key, name, e.key_len);
	trace_writer_record(s->writer, TREC_EVENT, &e, (uint32_t)PYRACE_EVENT_HEADER_SIZE);
}

static void seed_module(void *ctx, uint64_t module_dict, const char *name)
{
	struct seed *s = ctx;
	seed_watch(s, module_dict, 0, PYWATCH_MODULE, name);
	s->modules++;
}

static void seed_global_dict(void *ctx, uint64_t dict, uint64_t module_dict, const char *name)
{
	struct seed *s = ctx;
	seed_watch(s, dict, module_dict, PYWATCH_GLOBAL_DICT, name);
	s->dicts++;
}

static int process_gone(int pidfd, pid_t pid)
{
	if (pidfd >= 0) {
		struct pollfd p = {.fd = pidfd, .events = POLLIN};
		return poll(&p, 1, 0) > 0;
	}
	return kill(pid, 0) < 0 && errno == ESRCH;
}

int record_attach(pid_t pid, double duration_s, const struct record_options *opts)
{
	char link[64], exe[PATH_MAX];
	if (kill(pid, 0) < 0) {
		if (errno == ESRCH)
			fprintf(stderr, "pyrace: no such process: %d\n", pid);
		else
			fprintf(stderr, "pyrace: not permitted to trace process %d: %s\n", pid,
				strerror(errno));
		return 1;
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	ssize_t n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "pyrace: cannot read %s: %s\n", link, strerror(errno));
		return errno == ENOENT || errno == ESRCH ? 1 : 1;
	}
	exe[n] = '\0';
	struct interp_info *in = calloc(1, sizeof(*in));
	char why[1024];
	char *ld_path = read_ld_library_path(pid);
	enum interp_status st = interp_inspect(exe, ld_path, opts->debug_dir, in, why, sizeof(why));
	free(ld_path);
	if (st != INTERP_OK) {
		fprintf(stderr, "pyrace: process %d: %s\n", pid,
			st == INTERP_NOT_PYTHON || st == INTERP_NOT_ELF ? "not a CPython process"
									: why);
		free(in);
		return 2;
	}
	uint64_t bias;
	if (live_core_bias(pid, in, &bias)) {
		fprintf(stderr, "pyrace: process %d does not map %s (exited?)\n", pid, in->core);
		free(in);
		return 2;
	}
	struct trace_writer *w = trace_writer_open(opts->trace_path);
	if (!w) {
		fprintf(stderr, "pyrace: cannot create trace %s: %s\n", opts->trace_path,
			strerror(errno));
		free(in);
		return 1;
	}
	char **argv = read_cmdline(pid);
	char *no_args[] = {exe, NULL};
	if (opts->no_reads)
		interp_skip_reads(in);
	record_write_target(w, pid, in, argv && argv[0] ? argv : no_args);
	free(argv);
	int not_permitted;
	struct probes *probes = probes_attach(in, pid, 0, why, sizeof(why), &not_permitted);
	if (!probes) {
		fprintf(stderr, "pyrace: %s\n", why);
		trace_writer_close(w);
		free(in);
		return not_permitted ? 1 : 2;
	}
	struct seed seed = {.probes = probes, .writer = w, .pid = pid};
	struct live_walk_visitor visitor = {&seed, seed_module, seed_global_dict};
	if (live_walk_modules(pid, in, bias, &visitor) < 0)
		fprintf(stderr,
			"pyrace: warning: could not read sys.modules of process %d: "
			"only modules and dicts created from now on are watched\n",
			pid);
	struct consumer c;
	if (consumer_init(&c, probes_ring_fd(probes), w, pid, in)) {
		fprintf(stderr, "pyrace: cannot read the BPF ring buffer\n");
		probes_detach(probes);
		trace_writer_close(w);
		free(in);
		return 1;
	}
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct sigaction sa = {.sa_handler = on_stop_signal}, old_int, old_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	stop_requested = 0;
	fprintf(stderr,
		"pyrace: attached to %d (%s, CPython %s): %zu modules, %zu global dicts; "
		"stop with Ctrl-C%s\n",
		pid, exe, in->version, seed.modules, seed.dicts,
		duration_s > 0 ? " or at the deadline" : "");
	double start = record_now();
	struct trace_stats stats = {.exit_status = -1};
	struct status_line status;
	status_line_init(&status, seed.dicts);
	while (!stop_requested) {
		consumer_poll(&c, 50);
		status_line_tick(&status, &c, probes);
		if (process_gone(pidfd, pid)) {
			stats.ended_early = 1; /* the target ended while we watched */
			break;
		}
		if (duration_s > 0 && record_now() - start >= duration_s)
			break;
	}
	status_line_clear(&status);
	int rc = record_finish(&c, probes, w, &stats, start, opts->trace_path);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (pidfd >= 0)
		close(pidfd);
	free(in);
	return rc;
}
