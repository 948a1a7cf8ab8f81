/* The registers a probe point's program reads its arguments from, from what DWARF said. */
#include "probe_regs.h"

#include <string.h>

static const char *const reg_names[] = {
    [PYREG_RDI] = "rdi", [PYREG_RSI] = "rsi", [PYREG_RDX] = "rdx", [PYREG_RCX] = "rcx",
    [PYREG_R8] = "r8",	 [PYREG_R9] = "r9",   [PYREG_RAX] = "rax", [PYREG_RBX] = "rbx",
    [PYREG_RBP] = "rbp", [PYREG_R10] = "r10", [PYREG_R11] = "r11", [PYREG_R12] = "r12",
    [PYREG_R13] = "r13", [PYREG_R14] = "r14", [PYREG_R15] = "r15",
};

int probe_reg_of(const char *where)
{
	for (int r = PYREG_RDI; r <= PYREG_R15; r++)
		if (strcmp(where, reg_names[r]) == 0)
			return r;
	return PYREG_NONE;
}

void probe_regs_resolve(struct interp_info *in)
{
	for (size_t i = 0; i < in->nprobes; i++) {
		struct probe_point *p = &in->probes[i];
		if (!p->found || p->spec->is_return)
			continue;
		memset(p->regs, 0, sizeof(p->regs));
		p->regs_unusable = 0;
		for (size_t a = 0; a < p->nargs && a < PYRACE_ARGMAP_ARGS; a++) {
			p->regs[a] = (uint8_t)probe_reg_of(p->args[a].where);
			p->regs_unusable |= p->regs[a] == PYREG_NONE;
		}
		p->regs_known = 1;
	}
}

int probe_regs_unusual(const struct probe_point *p)
{
	if (!p->regs_known)
		return 0;
	for (size_t a = 0; a < p->nargs && a < PYRACE_ARGMAP_ARGS; a++)
		if (p->regs[a] != PYREG_RDI + a)
			return 1;
	return 0;
}
