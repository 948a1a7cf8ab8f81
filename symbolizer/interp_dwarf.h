/* What the doctor learns about an interpreter from its DWARF beyond the symbols: argument
 * registers, functions only DWARF names, inlined copies. Used by interp.c only. */
#ifndef PYRACE_INTERP_DWARF_H
#define PYRACE_INTERP_DWARF_H

#include "elf_symbols.h"
#include "interp.h"

/* Fills `p` for a function at `vaddr` of `t`, stepping past endbr64. 0 on success. */
int interp_probe_at(const struct symbol_table *t, uint64_t vaddr, int is_return,
		    struct probe_point *p);

/* Adds to `in` (probe points already resolved from symbols) what the DWARF of the core (its
 * debug file, else the core itself) and of the _queue extension say. */
void interp_dwarf_pass(struct interp_info *in, const struct symbol_table *core,
		       const struct symbol_table *queue);

#endif /* PYRACE_INTERP_DWARF_H */
