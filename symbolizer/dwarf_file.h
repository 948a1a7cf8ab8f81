/* DWARF of an interpreter (its build-id debug file or the unstripped file itself): which
 * function is which, and where a function's arguments are at a given instruction. */
#ifndef PYRACE_DWARF_FILE_H
#define PYRACE_DWARF_FILE_H

#include <elfutils/libdw.h>
#include <stddef.h>
#include <stdint.h>

struct dwarf_file;

/* Opens the DWARF of `path`. NULL when the file has none or cannot be read. */
struct dwarf_file *dwarf_file_open(const char *path);
void dwarf_file_close(struct dwarf_file *df);
Dwarf *dwarf_file_dwarf(struct dwarf_file *df);

#define DWARF_MAX_PARAMS 8

/* A formal parameter and where it lives at one instruction: "rdi", "r12", "r8+8" (the value
 * of r8 plus 8), "stack", "entry value", "computed" (another expression), "optimised out" (no
 * location), "not here" (not live at that instruction). */
struct dwarf_param {
	char name[40];
	char where[16];
};

struct dwarf_params {
	size_t n;
	struct dwarf_param p[DWARF_MAX_PARAMS];
};

/* The DIE that names a function (its abstract origin or declaration), reached from a
 * concrete or inlined instance through DW_AT_abstract_origin / DW_AT_specification. */
int dwarf_die_root(Dwarf_Die *die, Dwarf_Die *root);

/* The parameters of the function instance `die` (a concrete DW_TAG_subprogram or a
 * DW_TAG_inlined_subroutine), each with its location at `pc`. */
void dwarf_die_params(Dwarf_Die *die, uint64_t pc, struct dwarf_params *out);

/* Where the instance `die` starts: DW_AT_entry_pc, DW_AT_low_pc or its first range. */
int dwarf_die_entry(Dwarf_Die *die, uint64_t *pc);

/* The out-of-line function whose code starts at `vaddr` (a symbol's value): its concrete
 * DW_TAG_subprogram. 0 when found. */
int dwarf_function_at(struct dwarf_file *df, uint64_t vaddr, Dwarf_Die *out);

/* The register that variable `name` of the out-of-line function starting at `function` is
 * assigned to at exactly `pc`: a location list entry of it starts there (so `pc` is an
 * instruction the compiler placed that value at). 0 with `where` set ("r15") when found. */
int dwarf_variable_born_at(struct dwarf_file *df, uint64_t function, const char *name, uint64_t pc,
			   char *where, size_t len);

/* The register variable or parameter `name` of the out-of-line function starting at
 * `function` is in at `pc`. 0 with `where` set when it is in one there. */
int dwarf_variable_at(struct dwarf_file *df, uint64_t function, const char *name, uint64_t pc,
		      char *where, size_t len);

/* x86-64 name of DWARF register `regno` ("rdi"), or NULL. */
const char *dwarf_register_name(unsigned regno);

#endif /* PYRACE_DWARF_FILE_H */
