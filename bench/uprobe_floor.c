/* Runs a command with an empty BPF program on every probe point pyrace would use: the floor
 * that pyrace's own cost is compared with in bench/run.py. Usage: uprobe_floor -- CMD ARGS */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "floor.skel.h"
#include "launcher.h"

struct multi_attr {
	uint32_t prog_fd, target_fd, attach_type, flags;
	uint64_t path, offsets, ref_ctr_offsets, cookies;
	uint32_t cnt, multi_flags, pid;
	uint8_t zero[144 - 60];
};

int main(int argc, char **argv)
{
	if (argc < 3 || strcmp(argv[1], "--") != 0) {
		fprintf(stderr, "usage: uprobe_floor -- COMMAND [ARGS...]\n");
		return 1;
	}
	struct launch l;
	if (launch_until_python(argv + 2, "/usr/lib/debug", &l) != LAUNCH_PYTHON ||
	    l.interp_status != INTERP_OK) {
		fprintf(stderr, "uprobe_floor: %s\n", l.why[0] ? l.why : "not a traceable CPython");
		return 2;
	}
	struct floor_bpf *skel = floor_bpf__open();
	bpf_program__set_expected_attach_type(skel->progs.empty, 48 /* BPF_TRACE_UPROBE_MULTI */);
	if (floor_bpf__load(skel)) {
		fprintf(stderr, "uprobe_floor: cannot load: %s\n", strerror(errno));
		return 1;
	}
	int fds[4], nfds = 0;
	for (int module = PROBE_IN_CORE; module <= PROBE_IN_QUEUE; module++) {
		for (int is_return = 0; is_return <= 1; is_return++) {
			uint64_t offsets[64];
			uint32_t cnt = 0;
			for (size_t i = 0; i < l.interp.nprobes && cnt < 64; i++) {
				const struct probe_point *p = &l.interp.probes[i];
				if (p->found && (int)p->spec->module == module &&
				    p->spec->is_return == is_return)
					offsets[cnt++] = p->file_offset;
			}
			if (!cnt)
				continue;
			struct multi_attr a;
			memset(&a, 0, sizeof(a));
			a.prog_fd = (uint32_t)bpf_program__fd(skel->progs.empty);
			a.attach_type = 48;
			a.path =
			    (uint64_t)(uintptr_t)(module == PROBE_IN_CORE ? l.interp.core
									  : l.interp.queue_ext);
			a.offsets = (uint64_t)(uintptr_t)offsets;
			a.cnt = cnt;
			a.multi_flags = is_return ? 1 : 0;
			a.pid = (uint32_t)l.pid;
			fds[nfds] = (int)syscall(__NR_bpf, 28 /* BPF_LINK_CREATE */, &a, sizeof(a));
			if (fds[nfds] < 0) {
				fprintf(stderr, "uprobe_floor: attach: %s\n", strerror(errno));
				return 1;
			}
			nfds++;
		}
	}
	launch_resume(&l);
	int status;
	while (waitpid(l.pid, &status, 0) < 0 && errno == EINTR)
		;
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	floor_bpf__destroy(skel);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
