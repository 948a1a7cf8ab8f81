// SPDX-License-Identifier: GPL-2.0
/* Following a process tree: every process forked by a followed one is followed too, and each new
 * program (a fork, an exec) is stopped before its first instruction, so that user space attaches
 * its probes and reads its modules before it can change anything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

char LICENSE[] SEC("license") = "GPL";

#define SIGSTOP 19

enum follow_state {
	FOLLOWED = 1,
	NEWBORN,       /* forked, has not run yet */
	NEWBORN_VFORK, /* forked sharing its parent's memory: it only runs until exec or exit */
};

struct follow {
	__u32 parent;
	__u8 state;
};

/* tgid -> follow; user space adds the processes given with -p */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct follow);
} followed SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} proc_events SEC(".maps");

static __always_inline void emit(__u32 type, __u32 pid, __u32 parent, __u32 stopped)
{
	struct pyrace_proc_event e = {
	    .type = type, .pid = pid, .parent = parent, .stopped = stopped};
	/* user space must act at once: the new process waits for it */
	bpf_ringbuf_output(&proc_events, &e, sizeof(e), BPF_RB_FORCE_WAKEUP);
}

/* In the parent, before the child can run. Threads are not new processes. */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(tree_fork, struct task_struct *parent, struct task_struct *child)
{
	if (child->pid != child->tgid)
		return 0;
	__u32 ptgid = parent->tgid, tgid = child->tgid;
	if (!bpf_map_lookup_elem(&followed, &ptgid))
		return 0;
	struct follow f = {.parent = ptgid,
			   .state = child->mm == parent->mm ? NEWBORN_VFORK : NEWBORN};
	bpf_map_update_elem(&followed, &tgid, &f, BPF_ANY);
	return 0;
}

/* A new process's return from fork, in its own context: the stop is delivered before its first
 * instruction. The event is sent after the signal, so that user space's SIGCONT cannot come first
 * and leave the process stopped for good. The syscall exit tracepoint runs for every syscall on
 * the machine (a map lookup, tens of ns) while pyrace follows children: kernels without kprobes
 * or fentry (this project's) offer nothing closer to a new task's first run. */
SEC("tp_btf/sys_exit")
int BPF_PROG(tree_first_run, struct pt_regs *regs, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32;
	if ((__u32)id != tgid)
		return 0;
	struct follow *f = bpf_map_lookup_elem(&followed, &tgid);
	if (!f || f->state == FOLLOWED)
		return 0;
	/* a vfork child borrows its parent's memory and the parent waits for it: stopping it
	 * would hold the parent too, and there is nothing of its own to attach to until exec */
	__u32 stop = f->state == NEWBORN;
	f->state = FOLLOWED;
	if (stop && bpf_send_signal(SIGSTOP))
		stop = 0;
	emit(PYPROC_FORK, tgid, f->parent, stop);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(tree_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct follow *f = bpf_map_lookup_elem(&followed, &tgid);
	if (!f)
		return 0;
	f->state = FOLLOWED;
	__u32 stop = bpf_send_signal(SIGSTOP) == 0;
	emit(PYPROC_EXEC, tgid, f->parent, stop);
	return 0;
}

/* The last thread of a followed process is gone: its pid may soon name another process. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(tree_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	if (!bpf_map_lookup_elem(&followed, &tgid))
		return 0;
	if (BPF_CORE_READ(p, signal, live.counter) == 0)
		bpf_map_delete_elem(&followed, &tgid);
	return 0;
}
