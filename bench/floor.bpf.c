// SPDX-License-Identifier: GPL-2.0
/* The cost floor: an empty program on every probe point pyrace uses. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("uprobe")
int empty(void *ctx)
{
	return 0;
}
