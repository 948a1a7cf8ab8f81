/* The registers a probe point's program reads its arguments from, from what DWARF said. */
#ifndef PYRACE_PROBE_REGS_H
#define PYRACE_PROBE_REGS_H

#include "interp.h"

/* enum pyrace_reg of a register name ("rsi"), PYREG_NONE for anything else. */
int probe_reg_of(const char *where);
/* The same for a location that may add a constant to the register ("r8+8": *offset = 8) or
 * carry a note after a space ("rdi (ABI)"). */
int probe_reg_parse(const char *where, int32_t *offset);

/* Fills regs[] of every found entry point from its args[] (DWARF locations), and flags those
 * where an argument the program reads is not in a register. */
void probe_regs_resolve(struct interp_info *in);

/* Whether a point's registers differ from the calling convention's order (rdi rsi rdx ...). */
int probe_regs_unusual(const struct probe_point *p);

#endif /* PYRACE_PROBE_REGS_H */
