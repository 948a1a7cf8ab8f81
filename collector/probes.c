/* Loading the BPF programs and attaching them to one traced process. */
#include "probes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pyrace.skel.h"

struct probes {
	struct pyrace_bpf *skel;
	struct bpf_link *links[64];
	size_t nlinks;
};

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_WARN && getenv("PYRACE_DEBUG_BPF"))
		return vfprintf(stderr, fmt, args);
	return 0;
}

static struct bpf_program *program_by_name(struct pyrace_bpf *skel, const char *name)
{
	return bpf_object__find_program_by_name(skel->obj, name);
}

struct probes *probes_attach(const struct interp_info *in, pid_t pid, int stop_at_finalize,
			     char *why, size_t whylen, int *not_permitted)
{
	*not_permitted = 0;
	libbpf_set_print(silent_print);
	struct probes *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	p->skel = pyrace_bpf__open();
	if (!p->skel) {
		snprintf(why, whylen, "cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	p->skel->rodata->L = in->layout;
	p->skel->rodata->stop_at_finalize = stop_at_finalize != 0;
	int err = pyrace_bpf__load(p->skel);
	if (err) {
		*not_permitted = err == -EPERM || err == -EACCES;
		snprintf(why, whylen, "cannot load the BPF programs: %s%s", strerror(-err),
			 *not_permitted ? " (needs root: CAP_BPF and CAP_PERFMON)" : "");
		goto fail;
	}
	for (size_t i = 0; i < in->nprobes; i++) {
		const struct probe_point *pp = &in->probes[i];
		if (!pp->found)
			continue;
		struct bpf_program *prog = program_by_name(p->skel, pp->spec->program);
		const char *path = pp->spec->module == PROBE_IN_CORE ? in->core : in->queue_ext;
		if (!prog) {
			snprintf(why, whylen, "internal: no BPF program %s", pp->spec->program);
			goto fail;
		}
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = pp->spec->is_return,
			    .bpf_cookie = pp->vaddr);
		struct bpf_link *link =
		    bpf_program__attach_uprobe_opts(prog, pid, path, pp->file_offset, &opts);
		if (!link) {
			err = -errno;
			*not_permitted = err == -EPERM || err == -EACCES;
			snprintf(why, whylen, "cannot attach a uprobe to %s in %s: %s", pp->symbol,
				 path, strerror(-err));
			goto fail;
		}
		if (p->nlinks == sizeof(p->links) / sizeof(p->links[0])) {
			bpf_link__destroy(link);
			snprintf(why, whylen, "internal: too many probes");
			goto fail;
		}
		p->links[p->nlinks++] = link;
	}
	return p;
fail:
	probes_detach(p);
	return NULL;
}

void probes_detach(struct probes *p)
{
	if (!p)
		return;
	for (size_t i = p->nlinks; i > 0; i--)
		bpf_link__destroy(p->links[i - 1]);
	pyrace_bpf__destroy(p->skel);
	free(p);
}

int probes_ring_fd(const struct probes *p)
{
	return bpf_map__fd(p->skel->maps.events);
}

size_t probes_attached(const struct probes *p)
{
	return p->nlinks;
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
