/* The processes of one attach session: probes per interpreter, address spaces, the process tree. */
#include "attach_session.h"

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

#include "global_reads.h"
#include "live_walk.h"
#include "trace_format.h"

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

static int same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The probes for the interpreter process `pid` runs: those of an interpreter file already loaded,
 * or new ones. NULL with one line in `why` and the exit status in `*status`. */
static struct probes *probes_for(struct session *s, pid_t pid, char *why, size_t whylen,
				 int *status)
{
	char link[64], exe[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	ssize_t n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0) {
		snprintf(why, whylen, "cannot read %s: %s", link, strerror(errno));
		*status = 1;
		return NULL;
	}
	exe[n] = '\0';
	char *ld_path = read_ld_library_path(pid);
	for (size_t i = 0; i < s->nslots; i++) {
		if (strcmp(s->slots[i].in->exe, exe) == 0 &&
		    same_text(s->slots[i].ld_library_path, ld_path)) {
			free(ld_path);
			return s->slots[i].probes;
		}
	}
	struct interp_info *in = calloc(1, sizeof(*in));
	enum interp_status st =
	    in ? interp_inspect(exe, ld_path, s->opts->debug_dir, in, why, whylen) : INTERP_NOT_ELF;
	if (st == INTERP_OK && s->opts->no_reads)
		interp_skip_reads(in);
	if (st == INTERP_OK)
		in->nested_depth = s->opts->nested_depth;
	if (st == INTERP_OK && s->opts->global_reads &&
	    interp_enable_global_reads(in, why, whylen)) {
		free(in);
		free(ld_path);
		*status = 2;
		return NULL;
	}
	if (st != INTERP_OK) {
		if (st == INTERP_NOT_PYTHON || st == INTERP_NOT_ELF)
			snprintf(why, whylen, "%s is not a CPython process", exe);
		free(in);
		free(ld_path);
		*status = 2;
		return NULL;
	}
	int not_permitted = 0;
	struct probes *p = s->nslots < SESSION_MAX_INTERPS
			       ? probes_load(in, 0, why, whylen, &not_permitted)
			       : NULL;
	if (p && (s->have_consumer ? consumer_add_ring(&s->c, probes_ring_fd(p))
				   : consumer_init(&s->c, probes_ring_fd(p), s->w))) {
		snprintf(why, whylen, "cannot read the BPF ring buffer");
		probes_detach(p);
		p = NULL;
	}
	if (!p) {
		if (s->nslots == SESSION_MAX_INTERPS)
			snprintf(why, whylen, "more than %d different interpreters",
				 SESSION_MAX_INTERPS);
		free(in);
		free(ld_path);
		*status = not_permitted ? 1 : 2;
		return NULL;
	}
	s->have_consumer = 1;
	s->slots[s->nslots++] = (struct interp_slot){in, ld_path, p};
	return p;
}

struct seed {
	struct probes *probes;
	struct consumer *consumer;
	pid_t pid;
	uint16_t number;
	size_t modules, dicts;
	size_t containers; /* lists and sets bound to globals */
};

/* A watch that happened before we attached: into the kernel's set and into the trace, in that
 * order, so that the trace names the dict before any access to it. */
static void seed_watch(struct seed *s, uint64_t dict, uint64_t aux, int kind, const char *name)
{
	if (probes_watch(s->probes, s->pid, dict, kind))
		return;
	struct pyrace_event e;
	memset(&e, 0, sizeof(e));
	e.type = PYEV_WATCH;
	e.op = (uint8_t)kind;
	e.pid = e.tid = (uint32_t)s->pid;
	e.process = s->number;
	e.obj = trace_tag_addr(s->number, dict);
	e.aux = aux ? trace_tag_addr(s->number, aux) : 0;
	e.key_kind = PYKEY_STR;
	size_t len = strlen(name);
	e.key_len = (uint8_t)(len < PYRACE_KEY_MAX ? len : PYRACE_KEY_MAX);
	memcpy(e.key, name, e.key_len);
	consumer_write_event(s->consumer, &e);
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

static void seed_global_object(void *ctx, uint64_t obj, uint64_t module_dict, const char *name,
			       int kind)
{
	struct seed *s = ctx;
	seed_watch(s, obj, module_dict, kind, name);
	s->containers++;
}

static struct traced *add_traced(struct session *s, pid_t pid, pid_t ppid, int root)
{
	if (s->nprocs == s->procs_cap) {
		size_t cap = s->procs_cap ? s->procs_cap * 2 : 16;
		struct traced *grown = realloc(s->procs, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		s->procs = grown;
		s->procs_cap = cap;
	}
	struct traced *t = &s->procs[s->nprocs++];
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->ppid = ppid;
	t->root = root;
	t->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	s->live++;
	return t;
}

struct traced *session_find(struct session *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid && !s->procs[i].gone)
			return &s->procs[i];
	return NULL;
}

/* Gives `pid` a new address space in the trace and attaches `p` to it. */
static int trace_with(struct session *s, struct traced *t, struct probes *p, int seed, char *why,
		      size_t whylen)
{
	const struct interp_info *in = probes_interp(p);
	uint16_t number = consumer_add_process(&s->c, t->pid, in);
	if (!number) {
		snprintf(why, whylen, "too many processes in one trace");
		return 2;
	}
	char **argv = read_cmdline(t->pid);
	char *no_args[] = {(char *)in->exe, NULL};
	if (t->root && !s->wrote_target) {
		/* the report's target: the first process given */
		record_write_target(s->w, t->pid, in, argv && argv[0] ? argv : no_args);
		s->wrote_target = 1;
	}
	record_write_process(s->w, number, t->pid, t->ppid, in->exe,
			     argv && argv[0] ? argv : no_args);
	free(argv);
	int not_permitted;
	if (probes_add_process(p, t->pid, why, whylen, &not_permitted)) {
		consumer_end_process(&s->c, t->pid);
		return not_permitted ? 1 : 2;
	}
	t->probes = p;
	if (!seed)
		return 0;
	uint64_t bias;
	struct seed sd = {.probes = p, .consumer = &s->c, .pid = t->pid, .number = number};
	struct live_walk_visitor visitor = {&sd, seed_module, seed_global_dict, seed_global_object};
	if (live_core_bias(t->pid, in, &bias) || live_walk_modules(t->pid, in, bias, &visitor) < 0)
		fprintf(stderr,
			"pyrace: warning: could not read sys.modules of process %d: "
			"only modules and dicts created from now on are watched\n",
			t->pid);
	t->modules = sd.modules;
	t->dicts = sd.dicts;
	t->containers = sd.containers;
	return 0;
}

int session_trace(struct session *s, pid_t pid, pid_t ppid, int root, int seed)
{
	char why[1024];
	int status = 0;
	struct probes *p = probes_for(s, pid, why, sizeof(why), &status);
	if (!p && !root) {
		session_follow_untraced(s, pid, ppid, why);
		return 0;
	}
	struct traced *t = p ? add_traced(s, pid, ppid, root) : NULL;
	if (p && !t) {
		snprintf(why, sizeof(why), "out of memory");
		status = 1;
	}
	if (t)
		status = trace_with(s, t, p, seed, why, sizeof(why));
	if (status)
		fprintf(stderr, "pyrace: process %d: %s\n", pid, why);
	return status;
}

struct traced *session_follow_untraced(struct session *s, pid_t pid, pid_t ppid, const char *why)
{
	struct traced *t = session_find(s, pid);
	if (!t)
		t = add_traced(s, pid, ppid, 0);
	s->untraced++;
	for (size_t i = 0; i < s->nunsupported; i++)
		if (strcmp(s->unsupported[i], why) == 0)
			return t;
	char **grown = realloc(s->unsupported, (s->nunsupported + 1) * sizeof(*grown));
	if (grown) {
		s->unsupported = grown;
		s->unsupported[s->nunsupported++] = strdup(why);
	}
	/* once per program: a service that runs a tool per request would fill the terminal */
	fprintf(stderr, "pyrace: process %d: %s; not traced, its children are followed\n", pid,
		why);
	return t;
}

int session_queue_event(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;
	if (size < sizeof(struct pyrace_proc_event))
		return 0;
	if (s->nqueue == s->queue_cap) {
		size_t cap = s->queue_cap ? s->queue_cap * 2 : 16;
		struct pyrace_proc_event *grown = realloc(s->queue, cap * sizeof(*grown));
		if (!grown) {
			/* never leave a process stopped, even without memory to trace it */
			const struct pyrace_proc_event *e = data;
			if (e->stopped)
				kill((pid_t)e->pid, SIGCONT);
			return 0;
		}
		s->queue = grown;
		s->queue_cap = cap;
	}
	memcpy(&s->queue[s->nqueue++], data, sizeof(struct pyrace_proc_event));
	return 0;
}

/* A forked child runs its parent's program on a copy of its memory: the same probes, and its
 * modules read now, while it is stopped before its first instruction. */
static void on_fork(struct session *s, const struct pyrace_proc_event *e)
{
	if (session_find(s, (pid_t)e->pid))
		return;
	struct traced *parent = session_find(s, (pid_t)e->parent);
	struct traced *t = add_traced(s, (pid_t)e->pid, (pid_t)e->parent, 0);
	if (!t || !parent || !parent->probes || !e->stopped)
		return; /* not CPython, or a vfork child that only runs until its exec */
	char why[1024];
	if (trace_with(s, t, parent->probes, 1, why, sizeof(why)))
		fprintf(stderr, "pyrace: process %d: %s; not traced\n", t->pid, why);
}

/* A new program in a followed process: a new address space, maybe another interpreter. */
static void on_exec(struct session *s, const struct pyrace_proc_event *e)
{
	pid_t pid = (pid_t)e->pid;
	struct traced *t = session_find(s, pid);
	if (!t && !(t = add_traced(s, pid, (pid_t)e->parent, 0)))
		return;
	if (t->probes) {
		probes_remove_process(t->probes, pid);
		t->probes = NULL;
	}
	consumer_end_process(&s->c, pid);
	char why[1024];
	int status = 0;
	size_t index = (size_t)(t - s->procs);
	struct probes *p = probes_for(s, pid, why, sizeof(why), &status);
	t = &s->procs[index];
	if (!p) {
		session_follow_untraced(s, pid, t->ppid, why);
		return;
	}
	if (trace_with(s, t, p, 0, why, sizeof(why)))
		fprintf(stderr, "pyrace: process %d: %s; not traced\n", pid, why);
}

void session_handle_queue(struct session *s, int only_resume)
{
	if (!s->nqueue)
		return;
	/* every event of a program that an exec replaced is in the rings by now: write them under
	 * its old address space first */
	if (!only_resume)
		consumer_drain(&s->c);
	for (size_t i = 0; i < s->nqueue; i++) {
		struct pyrace_proc_event e = s->queue[i];
		if (!only_resume && e.type == PYPROC_FORK)
			on_fork(s, &e);
		else if (!only_resume && e.type == PYPROC_EXEC)
			on_exec(s, &e);
		if (e.stopped)
			kill((pid_t)e.pid, SIGCONT);
	}
	s->nqueue = 0;
}

static void process_ended(struct session *s, struct traced *t)
{
	if (t->probes)
		probes_remove_process(t->probes, t->pid);
	consumer_end_process(&s->c, t->pid);
	if (s->tree)
		tree_forget(s->tree, t->pid);
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
	t->probes = NULL;
	t->gone = 1;
	s->live--;
	if (t->root && s->live)
		fprintf(stderr, "pyrace: process %d ended; tracing goes on (%zu %s left)\n", t->pid,
			s->live, s->live == 1 ? "process" : "processes");
}

static int has_ended(const struct traced *t)
{
	if (t->pidfd >= 0) {
		struct pollfd p = {.fd = t->pidfd, .events = POLLIN};
		return poll(&p, 1, 0) > 0;
	}
	return kill(t->pid, 0) < 0 && errno == ESRCH;
}

size_t session_reap(struct session *s)
{
	int drained = 0;
	for (size_t i = 0; i < s->nprocs; i++) {
		struct traced *t = &s->procs[i];
		if (t->gone || !has_ended(t))
			continue;
		/* its last events are in the rings: write them while they still have a process */
		if (!drained && s->have_consumer)
			consumer_drain(&s->c);
		drained = 1;
		process_ended(s, t);
	}
	return s->live;
}

void session_free(struct session *s)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pidfd >= 0)
			close(s->procs[i].pidfd);
	for (size_t i = 0; i < s->nslots; i++) {
		free(s->slots[i].in);
		free(s->slots[i].ld_library_path);
	}
	for (size_t i = 0; i < s->nunsupported; i++)
		free(s->unsupported[i]);
	free(s->unsupported);
	free(s->procs);
	free(s->queue);
	tree_close(s->tree);
}
