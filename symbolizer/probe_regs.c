/* The registers a probe point's program reads its arguments from, from what DWARF said. */
#include "probe_regs.h"

#include <stdlib.h>
#include <string.h>

static const char *const reg_names[] = {
    [PYREG_RDI] = "rdi", [PYREG_RSI] = "rsi", [PYREG_RDX] = "rdx", [PYREG_RCX] = "rcx",
    [PYREG_R8] = "r8",	 [PYREG_R9] = "r9",   [PYREG_RAX] = "rax", [PYREG_RBX] = "rbx",
    [PYREG_RBP] = "rbp", [PYREG_R10] = "r10", [PYREG_R11] = "r11", [PYREG_R12] = "r12",
    [PYREG_R13] = "r13", [PYREG_R14] = "r14", [PYREG_R15] = "r15",
};

int probe_reg_parse(const char *where, int32_t *offset)
{
	*offset = 0;
	size_t len = strcspn(where, "+- ");
	int reg = PYREG_NONE;
	for (int r = PYREG_RDI; r <= PYREG_R15 && reg == PYREG_NONE; r++)
		if (strlen(reg_names[r]) == len && strncmp(where, reg_names[r], len) == 0)
			reg = r;
	const char *rest = where + len;
	if (reg == PYREG_NONE)
		return PYREG_NONE;
	if (*rest == '+' || *rest == '-') {
		char *end;
		long v = strtol(rest, &end, 10);
		if (end == rest + 1 || (*end && *end != ' ') || v < INT32_MIN || v > INT32_MAX)
			return PYREG_NONE;
		*offset = (int32_t)v;
		rest = end;
	}
	/* a note after the register ("rdi (ABI)") says where the location came from */
	return *rest == '\0' || *rest == ' ' ? reg : PYREG_NONE;
}

int probe_reg_of(const char *where)
{
	int32_t offset;
	int reg = probe_reg_parse(where, &offset);
	return offset ? PYREG_NONE : reg;
}

void probe_regs_resolve(struct interp_info *in)
{
	for (size_t i = 0; i < in->nprobes; i++) {
		struct probe_point *p = &in->probes[i];
		if (!p->found || p->spec->is_return)
			continue;
		memset(p->regs, 0, sizeof(p->regs));
		memset(p->offs, 0, sizeof(p->offs));
		p->regs_unusable = 0;
		for (size_t a = 0; a < p->nargs && a < PYRACE_ARGMAP_ARGS; a++) {
			p->regs[a] = (uint8_t)probe_reg_parse(p->args[a].where, &p->offs[a]);
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
		if (p->regs[a] != PYREG_RDI + a || p->offs[a])
			return 1;
	return 0;
}
