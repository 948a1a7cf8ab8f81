/* Following the process tree of traced processes in the kernel. */
#include "tree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "tree.skel.h"

struct tree {
	struct tree_bpf *skel;
};

/* struct follow in bpf/tree.bpf.c */
struct follow {
	uint32_t parent;
	uint8_t state;
};

struct tree *tree_open(char *why, size_t whylen)
{
	struct tree *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	t->skel = tree_bpf__open_and_load();
	int err = t->skel ? tree_bpf__attach(t->skel) : -errno;
	if (err) {
		snprintf(why, whylen,
			 "cannot follow child processes: loading the fork and exec tracepoints "
			 "failed: %s",
			 strerror(err < 0 ? -err : err));
		tree_close(t);
		return NULL;
	}
	return t;
}

int tree_follow(struct tree *t, pid_t pid)
{
	uint32_t key = (uint32_t)pid;
	struct follow f = {.parent = 0, .state = 1};
	return bpf_map__update_elem(t->skel->maps.followed, &key, sizeof(key), &f, sizeof(f),
				    BPF_ANY);
}

void tree_forget(struct tree *t, pid_t pid)
{
	uint32_t key = (uint32_t)pid;
	bpf_map__delete_elem(t->skel->maps.followed, &key, sizeof(key), 0);
}

int tree_ring_fd(const struct tree *t)
{
	return bpf_map__fd(t->skel->maps.proc_events);
}

void tree_stop(struct tree *t)
{
	if (t && t->skel)
		tree_bpf__detach(t->skel);
}

void tree_close(struct tree *t)
{
	if (!t)
		return;
	tree_bpf__destroy(t->skel);
	free(t);
}
