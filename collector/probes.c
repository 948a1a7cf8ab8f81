/* Loading the BPF programs and attaching them to one traced process. */
#include "probes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probe_regs.h"
#include "pyrace.skel.h"

/* From the kernel's uapi (6.6+); libbpf 1.1 and Debian 12's headers predate them. */
#define PYRACE_BPF_LINK_CREATE		 28
#define PYRACE_BPF_TRACE_UPROBE_MULTI	 48
#define PYRACE_BPF_F_UPROBE_MULTI_RETURN 1

#define MAX_LINKS PYRACE_MAX_PROBES

/* The links of one traced process: uprobe_multi takes a single pid, so each process gets its
 * own, which also keeps breakpoints out of every other process that maps the interpreter. */
struct probe_process {
	pid_t pid;
	int multi_fds[4]; /* uprobe_multi links: one per file and direction */
	size_t nmulti;
	struct bpf_link *links[MAX_LINKS]; /* per-probe perf links, on older kernels */
	size_t nlinks;
	/* --global-reads: the link holding the `line` semaphore up (uprobe_multi fd, or perf) */
	int line_fd;
	struct bpf_link *line_link;
	size_t attached;
};

struct probes {
	struct pyrace_bpf *skel;
	const struct interp_info *in;
	int stop_at_finalize;
	int multi; /* programs loaded for uprobe_multi links */
	struct probe_process *procs;
	size_t nprocs, procs_cap;
	uint8_t argmap[PYRACE_MAX_PROBES]; /* per probe point of in: its argument map, 0 the
					       calling convention */
};

/* The link_create part of union bpf_attr for uprobe_multi, padded to the union's size. */
struct uprobe_multi_attr {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, multi_flags, pid;
	uint8_t zero[144 - 60];
};

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN && getenv("PYRACE_DEBUG_BPF"))
		return vfprintf(stderr, fmt, args);
	return 0;
}

static const char *probe_path(const struct interp_info *in, const struct probe_point *pp)
{
	return pp->spec->module == PROBE_IN_CORE ? in->core : in->queue_ext;
}

/* Index of a handler program in the `handlers` prog array: its position among the programs. */
static int handler_index(struct probes *p, const char *name)
{
	int i = 0;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, p->skel->obj)
	{
		if (strcmp(bpf_program__name(prog), name) == 0)
			return i;
		i++;
	}
	return -1;
}

static int fill_handlers(struct probes *p)
{
	int i = 0, map = bpf_map__fd(p->skel->maps.handlers);
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, p->skel->obj)
	{
		int fd = bpf_program__fd(prog);
		uint32_t key = (uint32_t)i++;
		if (prog != p->skel->progs.dispatch && bpf_map_update_elem(map, &key, &fd, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* One link per file and direction, all to the dispatcher: the kernel unregisters a link's probe
 * points after a single grace period, where per-probe links cost ~0.1 s each at detach. */
static int attach_multi(struct probes *p, struct probe_process *proc, char *why, size_t whylen)
{
	const struct interp_info *in = p->in;
	pid_t pid = proc->pid;
	int err = fill_handlers(p);
	if (err) {
		snprintf(why, whylen, "cannot fill the BPF handler table: %s", strerror(-err));
		return err;
	}
	for (int module = PROBE_IN_CORE; module <= PROBE_IN_QUEUE; module++) {
		for (int is_return = 0; is_return <= 1; is_return++) {
			uint64_t offsets[PYRACE_MAX_PROBES], cookies[PYRACE_MAX_PROBES];
			uint32_t cnt = 0;
			const char *path = NULL;
			for (size_t j = 0; j < in->nprobes && cnt < PYRACE_MAX_PROBES; j++) {
				const struct probe_point *pp = &in->probes[j];
				if (!pp->found || (int)pp->spec->module != module ||
				    pp->spec->is_return != is_return)
					continue;
				int index = handler_index(p, probe_program(pp));
				if (index < 0) {
					snprintf(why, whylen, "internal: no BPF program %s",
						 probe_program(pp));
					return -ENOENT;
				}
				path = probe_path(in, pp);
				offsets[cnt] = pp->file_offset;
				cookies[cnt] = ((uint64_t)index << 56) |
					       ((uint64_t)p->argmap[j] << 48) | pp->vaddr;
				cnt++;
			}
			if (!cnt)
				continue;
			struct uprobe_multi_attr attr;
			memset(&attr, 0, sizeof(attr));
			attr.prog_fd = (uint32_t)bpf_program__fd(p->skel->progs.dispatch);
			attr.attach_type = PYRACE_BPF_TRACE_UPROBE_MULTI;
			attr.path = (uint64_t)(uintptr_t)path;
			attr.offsets = (uint64_t)(uintptr_t)offsets;
			attr.cookies = (uint64_t)(uintptr_t)cookies;
			attr.cnt = cnt;
			attr.multi_flags = is_return ? PYRACE_BPF_F_UPROBE_MULTI_RETURN : 0;
			attr.pid = (uint32_t)pid;
			int fd =
			    (int)syscall(__NR_bpf, PYRACE_BPF_LINK_CREATE, &attr, sizeof(attr));
			if (fd < 0 || proc->nmulti == 4) {
				err = fd < 0 ? errno : E2BIG;
				if (fd >= 0)
					close(fd);
				snprintf(why, whylen, "cannot attach uprobes in %s: %s", path,
					 strerror(err));
				return -err;
			}
			proc->multi_fds[proc->nmulti++] = fd;
			proc->attached += cnt;
		}
	}
	return 0;
}

static int attach_each(struct probes *p, struct probe_process *proc, char *why, size_t whylen)
{
	const struct interp_info *in = p->in;
	pid_t pid = proc->pid;
	for (size_t i = 0; i < in->nprobes; i++) {
		const struct probe_point *pp = &in->probes[i];
		if (!pp->found)
			continue;
		struct bpf_program *prog =
		    bpf_object__find_program_by_name(p->skel->obj, probe_program(pp));
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = pp->spec->is_return,
			    .bpf_cookie = ((uint64_t)p->argmap[i] << 48) | pp->vaddr);
		struct bpf_link *link = bpf_program__attach_uprobe_opts(
		    prog, pid, probe_path(in, pp), pp->file_offset, &opts);
		if (!link || proc->nlinks == MAX_LINKS) {
			int err = link ? E2BIG : errno;
			bpf_link__destroy(link);
			snprintf(why, whylen, "cannot attach a uprobe to %s in %s: %s", pp->symbol,
				 probe_path(in, pp), strerror(err));
			return -err;
		}
		proc->links[proc->nlinks++] = link;
		proc->attached++;
	}
	return 0;
}

/* --global-reads: a uprobe with the `line` probe's semaphore as its reference counter (at a site
 * that never runs, see symbolizer/global_reads.c), so that the kernel increments the semaphore in
 * this process now and decrements it when the link goes (at detach, or if pyrace dies): pyrace
 * itself writes nothing into the target. */
static int attach_line(struct probes *p, struct probe_process *proc, char *why, size_t whylen)
{
	const struct usdt_probe *lp = &p->in->line_probe;
	struct bpf_program *prog = p->skel->progs.line_semaphore;
	int err = 0;
	if (p->multi) {
		uint64_t offset = p->in->semaphore_site, ref_ctr = lp->sem_offset;
		struct uprobe_multi_attr attr;
		memset(&attr, 0, sizeof(attr));
		attr.prog_fd = (uint32_t)bpf_program__fd(prog);
		attr.attach_type = PYRACE_BPF_TRACE_UPROBE_MULTI;
		attr.path = (uint64_t)(uintptr_t)p->in->core;
		attr.offsets = (uint64_t)(uintptr_t)&offset;
		attr.ref_ctr_offsets = (uint64_t)(uintptr_t)&ref_ctr;
		attr.cnt = 1;
		attr.pid = (uint32_t)proc->pid;
		int fd = (int)syscall(__NR_bpf, PYRACE_BPF_LINK_CREATE, &attr, sizeof(attr));
		if (fd < 0)
			err = errno;
		else
			proc->line_fd = fd;
	} else {
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .ref_ctr_offset = lp->sem_offset);
		proc->line_link = bpf_program__attach_uprobe_opts(prog, proc->pid, p->in->core,
								  p->in->semaphore_site, &opts);
		if (!proc->line_link)
			err = errno;
	}
	if (err)
		snprintf(why, whylen,
			 "--global-reads: cannot attach the python:line semaphore's uprobe (at %s "
			 "in %s): %s",
			 p->in->semaphore_site_name, p->in->core, strerror(err));
	return -err;
}

/* Gives every probe point whose arguments are not in the calling convention's registers an
 * argument map (the same map for points that agree) and writes the maps into the programs. */
static int assign_argmaps(struct probes *p, const struct interp_info *in)
{
	uint8_t nmaps = 1;
	memset(p->argmap, 0, sizeof(p->argmap));
	for (size_t i = 0; i < in->nprobes && i < sizeof(p->argmap); i++) {
		const struct probe_point *pp = &in->probes[i];
		if (!pp->found || pp->spec->is_return || !probe_regs_unusual(pp))
			continue;
		uint8_t m = 1;
		while (m < nmaps &&
		       (memcmp(p->skel->rodata->argregs[m], pp->regs, PYRACE_ARGMAP_ARGS) != 0 ||
			memcmp(p->skel->rodata->argoffs[m], pp->offs, sizeof(pp->offs)) != 0))
			m++;
		if (m == nmaps) {
			if (nmaps == PYRACE_ARGMAPS)
				return -E2BIG;
			memcpy((void *)p->skel->rodata->argregs[nmaps], pp->regs,
			       PYRACE_ARGMAP_ARGS);
			memcpy((void *)p->skel->rodata->argoffs[nmaps++], pp->offs,
			       sizeof(pp->offs));
		}
		p->argmap[i] = m;
	}
	return 0;
}

/* Opens and loads the programs; with `multi`, for uprobe_multi links. */
static int load(struct probes *p, const struct interp_info *in, int stop_at_finalize, int multi)
{
	p->skel = pyrace_bpf__open();
	if (!p->skel)
		return -errno;
	p->skel->rodata->L = in->layout;
	int err = assign_argmaps(p, in);
	if (err)
		return err;
	/* PYRACE_RING_SIZE: bytes of the event ring buffer (a power of two, at least a page) */
	const char *ring = getenv("PYRACE_RING_SIZE");
	if (ring) {
		unsigned long size = strtoul(ring, NULL, 0);
		if (size < 4096 || (size & (size - 1)))
			return -EINVAL;
		bpf_map__set_max_entries(p->skel->maps.events, (uint32_t)size);
		if (size / 4 < p->skel->rodata->wakeup_bytes)
			p->skel->rodata->wakeup_bytes = size / 4;
	}
	p->skel->rodata->stop_at_finalize = stop_at_finalize != 0;
	p->skel->rodata->record_reads = !in->no_reads;
	p->skel->rodata->max_depth = (uint8_t)(1 + in->nested_depth);
	struct bpf_program *prog;
	if (multi)
		bpf_object__for_each_program(prog, p->skel->obj)
		    bpf_program__set_expected_attach_type(prog, PYRACE_BPF_TRACE_UPROBE_MULTI);
	return pyrace_bpf__load(p->skel);
}

static void close_links(struct probe_process *proc)
{
	/* the kernel lowers the semaphore as the link's uprobe goes */
	if (proc->line_fd > 0)
		close(proc->line_fd);
	bpf_link__destroy(proc->line_link);
	proc->line_fd = 0;
	proc->line_link = NULL;
	for (size_t i = 0; i < proc->nmulti; i++)
		close(proc->multi_fds[i]);
	for (size_t i = 0; i < proc->nlinks; i++)
		bpf_link__destroy(proc->links[i]);
	proc->nmulti = proc->nlinks = proc->attached = 0;
}

static void unload(struct probes *p)
{
	for (size_t i = 0; i < p->nprocs; i++)
		close_links(&p->procs[i]);
	p->nprocs = 0;
	pyrace_bpf__destroy(p->skel);
	p->skel = NULL;
}

static void explain(int err, char *why, size_t whylen, int *not_permitted)
{
	*not_permitted = err == -EPERM || err == -EACCES;
	if (!why[0])
		snprintf(why, whylen, "cannot load the BPF programs: %s", strerror(-err));
	if (*not_permitted)
		snprintf(why + strlen(why), whylen - strlen(why),
			 " (needs root: CAP_BPF and CAP_PERFMON)");
}

struct probes *probes_load(const struct interp_info *in, int stop_at_finalize, char *why,
			   size_t whylen, int *not_permitted)
{
	*not_permitted = 0;
	why[0] = '\0';
	libbpf_set_print(silent_print);
	struct probes *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	p->in = in;
	p->stop_at_finalize = stop_at_finalize;
	p->multi = 1;
	int err = load(p, in, stop_at_finalize, 1);
	if (err) {
		explain(err, why, whylen, not_permitted);
		probes_detach(p);
		return NULL;
	}
	return p;
}

int probes_add_process(struct probes *p, pid_t pid, char *why, size_t whylen, int *not_permitted)
{
	*not_permitted = 0;
	why[0] = '\0';
	if (p->nprocs == p->procs_cap) {
		size_t cap = p->procs_cap ? p->procs_cap * 2 : 8;
		struct probe_process *grown = realloc(p->procs, cap * sizeof(*grown));
		if (!grown) {
			snprintf(why, whylen, "out of memory");
			return -ENOMEM;
		}
		p->procs = grown;
		p->procs_cap = cap;
	}
	struct probe_process *proc = &p->procs[p->nprocs];
	memset(proc, 0, sizeof(*proc));
	proc->pid = pid;
	int err = p->multi ? attach_multi(p, proc, why, whylen) : attach_each(p, proc, why, whylen);
	if (err && p->multi && p->nprocs == 0 && err != -EPERM && err != -EACCES) {
		/* a kernel before 6.6: one perf link per probe point; nothing was watched yet, so
		 * the programs and maps can be loaded again */
		close_links(proc);
		pyrace_bpf__destroy(p->skel);
		p->skel = NULL;
		p->multi = 0;
		why[0] = '\0';
		err = load(p, p->in, p->stop_at_finalize, 0);
		if (!err)
			err = attach_each(p, proc, why, whylen);
	}
	if (!err && p->in->global_reads)
		err = attach_line(p, proc, why, whylen);
	if (err) {
		close_links(proc);
		explain(err, why, whylen, not_permitted);
		return err;
	}
	p->nprocs++;
	return 0;
}

void probes_remove_process(struct probes *p, pid_t pid)
{
	for (size_t i = 0; i < p->nprocs; i++) {
		if (p->procs[i].pid != pid)
			continue;
		close_links(&p->procs[i]);
		p->procs[i] = p->procs[--p->nprocs];
		break;
	}
	probes_forget_watched(p, pid);
}

int probes_has_process(const struct probes *p, pid_t pid)
{
	for (size_t i = 0; i < p->nprocs; i++)
		if (p->procs[i].pid == pid)
			return 1;
	return 0;
}

void probes_forget_watched(struct probes *p, pid_t pid)
{
	int fd = bpf_map__fd(p->skel->maps.watched);
	struct pyrace_watch_key key, next, *prev = NULL;
	/* deleting the key just visited would restart the walk: collect a batch, then delete */
	for (;;) {
		struct pyrace_watch_key batch[256];
		size_t n = 0;
		prev = NULL;
		while (n < 256 && bpf_map_get_next_key(fd, prev, &next) == 0) {
			key = next;
			prev = &key;
			if (key.tgid == (uint32_t)pid)
				batch[n++] = key;
		}
		for (size_t i = 0; i < n; i++)
			bpf_map_delete_elem(fd, &batch[i]);
		if (n < 256)
			return;
	}
}

const struct interp_info *probes_interp(const struct probes *p)
{
	return p->in;
}

struct probes *probes_attach(const struct interp_info *in, pid_t pid, int stop_at_finalize,
			     char *why, size_t whylen, int *not_permitted)
{
	struct probes *p = probes_load(in, stop_at_finalize, why, whylen, not_permitted);
	if (p && probes_add_process(p, pid, why, whylen, not_permitted)) {
		probes_detach(p);
		return NULL;
	}
	return p;
}

void probes_detach(struct probes *p)
{
	if (!p)
		return;
	unload(p);
	free(p->procs);
	free(p);
}

int probes_ring_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.events);
}

int probes_watch(struct probes *p, pid_t pid, uint64_t dict, int kind)
{
	/* struct watch_info in the BPF program: kind, depth */
	uint8_t info[2] = {(uint8_t)kind, kind == PYWATCH_GLOBAL_DICT ||
						  kind == PYWATCH_GLOBAL_LIST ||
						  kind == PYWATCH_GLOBAL_SET
					      ? 1
					      : 0};
	struct pyrace_watch_key key = {.tgid = (uint32_t)pid, .addr = dict};
	/* the filter first, as the BPF programs do: no lookup can then miss the entry */
	__atomic_store_n(&p->skel->bss->watch_filter[pyrace_watch_filter_slot(key.tgid, dict)], 1,
			 __ATOMIC_RELEASE);
	return bpf_map__update_elem(p->skel->maps.watched, &key, sizeof(key), info, sizeof(info),
				    BPF_ANY);
}

size_t probes_attached(const struct probes *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nprocs; i++)
		n += p->procs[i].attached;
	return n;
}

static uint64_t counter_sum(const struct probes *p, uint32_t which)
{
	int ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		return 0;
	uint64_t *values = calloc((size_t)ncpus, sizeof(*values)), sum = 0;
	if (values && bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.counters), &which, values) == 0)
		for (int i = 0; i < ncpus; i++)
			sum += values[i];
	free(values);
	return sum;
}

uint64_t probes_lost_events(const struct probes *p)
{
	return counter_sum(p, 0);
}

uint64_t probes_truncated_stacks(const struct probes *p)
{
	return counter_sum(p, 1);
}
