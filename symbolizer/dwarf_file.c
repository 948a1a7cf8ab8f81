/* DWARF of an interpreter (its build-id debug file or the unstripped file itself): which
 * function is which, and where a function's arguments are at a given instruction. */
#include "dwarf_file.h"

#include <dwarf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dwarf_file {
	int fd;
	Dwarf *dw;
};

struct dwarf_file *dwarf_file_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	Dwarf *dw = dwarf_begin(fd, DWARF_C_READ);
	if (!dw) {
		close(fd);
		return NULL;
	}
	struct dwarf_file *df = calloc(1, sizeof(*df));
	if (!df) {
		dwarf_end(dw);
		close(fd);
		return NULL;
	}
	df->fd = fd;
	df->dw = dw;
	return df;
}

void dwarf_file_close(struct dwarf_file *df)
{
	if (!df)
		return;
	dwarf_end(df->dw);
	close(df->fd);
	free(df);
}

Dwarf *dwarf_file_dwarf(struct dwarf_file *df)
{
	return df->dw;
}

const char *dwarf_register_name(unsigned regno)
{
	/* the x86-64 psABI's DWARF numbering, not the instruction encoding's */
	static const char *const names[] = {"rax", "rdx", "rcx", "rbx", "rsi", "rdi", "rbp", "rsp",
					    "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
	return regno < sizeof(names) / sizeof(names[0]) ? names[regno] : NULL;
}

int dwarf_die_root(Dwarf_Die *die, Dwarf_Die *root)
{
	*root = *die;
	/* GCC's LTO output chains concrete -> ltrans abstract -> early-debug abstract; a bound
	 * keeps a malformed cycle from hanging us */
	for (int hops = 0; hops < 16; hops++) {
		Dwarf_Attribute attr;
		Dwarf_Die next;
		if (!dwarf_attr(root, DW_AT_abstract_origin, &attr) &&
		    !dwarf_attr(root, DW_AT_specification, &attr))
			return 0;
		if (!dwarf_formref_die(&attr, &next))
			return -1;
		*root = next;
	}
	return -1;
}

static void describe_location(const Dwarf_Op *ops, size_t n, char *out, size_t len)
{
	if (n == 0) {
		snprintf(out, len, "optimised out");
		return;
	}
	uint8_t op = ops[0].atom;
	if (n == 1 && op >= DW_OP_reg0 && op <= DW_OP_reg31) {
		const char *r = dwarf_register_name(op - DW_OP_reg0);
		if (r)
			snprintf(out, len, "%s", r);
		else
			snprintf(out, len, "dwreg%u", op - DW_OP_reg0);
	} else if (n == 1 && op == DW_OP_regx) {
		const char *r = dwarf_register_name((unsigned)ops[0].number);
		if (r)
			snprintf(out, len, "%s", r);
		else
			snprintf(out, len, "dwreg%u", (unsigned)ops[0].number);
	} else if (op == DW_OP_fbreg || op == DW_OP_breg7 || op == DW_OP_call_frame_cfa) {
		snprintf(out, len, "stack");
	} else if (n == 2 && op >= DW_OP_breg0 && op <= DW_OP_breg31 &&
		   ops[1].atom == DW_OP_stack_value && dwarf_register_name(op - DW_OP_breg0)) {
		/* a pointer into an array the caller holds (args + 1 of a method call): the
		 * register plus a constant */
		snprintf(out, len, "%s%+" PRId64, dwarf_register_name(op - DW_OP_breg0),
			 (int64_t)ops[0].number);
	} else if (op == DW_OP_entry_value || op == DW_OP_GNU_entry_value) {
		snprintf(out, len, "entry value");
	} else if (op == DW_OP_implicit_value || ops[n - 1].atom == DW_OP_stack_value) {
		snprintf(out, len, "computed");
	} else {
		snprintf(out, len, "op 0x%x", op);
	}
}

void dwarf_die_params(Dwarf_Die *die, uint64_t pc, struct dwarf_params *out)
{
	memset(out, 0, sizeof(*out));
	Dwarf_Die child;
	if (dwarf_child(die, &child) != 0)
		return;
	do {
		if (dwarf_tag(&child) != DW_TAG_formal_parameter || out->n == DWARF_MAX_PARAMS)
			continue;
		struct dwarf_param *p = &out->p[out->n++];
		const char *name = dwarf_diename(&child);
		snprintf(p->name, sizeof(p->name), "%s", name ? name : "?");
		Dwarf_Attribute attr;
		if (!dwarf_attr(&child, DW_AT_location, &attr)) {
			snprintf(p->where, sizeof(p->where), "%s",
				 dwarf_attr(&child, DW_AT_const_value, &attr) ? "constant"
									      : "optimised out");
			continue;
		}
		Dwarf_Op *expr;
		size_t exprlen;
		int nloc = dwarf_getlocation_addr(&attr, pc, &expr, &exprlen, 1);
		if (nloc <= 0)
			snprintf(p->where, sizeof(p->where), "not here");
		else
			describe_location(expr, exprlen, p->where, sizeof(p->where));
	} while (dwarf_siblingof(&child, &child) == 0);
}

int dwarf_die_entry(Dwarf_Die *die, uint64_t *pc)
{
	Dwarf_Addr a, base, lo, hi;
	if (dwarf_entrypc(die, &a) == 0) {
		*pc = a;
		return 0;
	}
	/* hot/cold split functions have DW_AT_ranges only; GCC lists the hot part first */
	if (dwarf_ranges(die, 0, &base, &lo, &hi) > 0) {
		*pc = lo;
		return 0;
	}
	return -1;
}

static int die_starts_at(Dwarf_Die *die, uint64_t vaddr)
{
	Dwarf_Addr base, lo, hi;
	uint64_t pc;
	if (dwarf_die_entry(die, &pc) == 0 && pc == vaddr)
		return 1;
	ptrdiff_t off = 0;
	while ((off = dwarf_ranges(die, off, &base, &lo, &hi)) > 0)
		if (lo == vaddr)
			return 1;
	return 0;
}

/* Depth-first over the scopes of one CU: concrete subprograms may sit inside others. */
static int find_subprogram(Dwarf_Die *parent, uint64_t vaddr, Dwarf_Die *out, int depth)
{
	Dwarf_Die child;
	if (depth > 32 || dwarf_child(parent, &child) != 0)
		return -1;
	do {
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_subprogram && die_starts_at(&child, vaddr)) {
			*out = child;
			return 0;
		}
		if ((tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block) &&
		    dwarf_haspc(&child, vaddr) == 1 &&
		    find_subprogram(&child, vaddr, out, depth + 1) == 0)
			return 0;
	} while (dwarf_siblingof(&child, &child) == 0);
	return -1;
}

int dwarf_function_at(struct dwarf_file *df, uint64_t vaddr, Dwarf_Die *out)
{
	Dwarf_Die cu;
	if (dwarf_addrdie(df->dw, vaddr, &cu) && find_subprogram(&cu, vaddr, out, 0) == 0)
		return 0;
	/* no .debug_aranges entry: ask every CU that covers the address */
	Dwarf_CU *unit = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	while (dwarf_get_units(df->dw, unit, &unit, NULL, &unit_type, &cudie, NULL) == 0) {
		if (dwarf_haspc(&cudie, vaddr) == 1 && find_subprogram(&cudie, vaddr, out, 0) == 0)
			return 0;
	}
	return -1;
}

/* Depth-first over `scope`'s own parameters, variables and lexical blocks (inlined copies
 * hold variables of other functions): the register `name` is in at `pc`, with `born` only
 * from a location list entry that starts exactly there. */
static int variable_at(Dwarf_Die *scope, const char *name, uint64_t pc, int born, char *where,
		       size_t len, int depth)
{
	Dwarf_Die child;
	if (depth > 32 || dwarf_child(scope, &child) != 0)
		return -1;
	do {
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_lexical_block &&
		    variable_at(&child, name, pc, born, where, len, depth + 1) == 0)
			return 0;
		const char *n = tag == DW_TAG_variable || tag == DW_TAG_formal_parameter
				    ? dwarf_diename(&child)
				    : NULL;
		Dwarf_Attribute attr;
		if (!n || strcmp(n, name) != 0 || !dwarf_attr(&child, DW_AT_location, &attr))
			continue;
		ptrdiff_t off = 0;
		Dwarf_Addr base, start, end;
		Dwarf_Op *expr;
		size_t exprlen;
		while ((off = dwarf_getlocations(&attr, off, &base, &start, &end, &expr,
						 &exprlen)) > 0) {
			int in_register =
			    exprlen == 1 &&
			    ((expr[0].atom >= DW_OP_reg0 && expr[0].atom <= DW_OP_reg31) ||
			     expr[0].atom == DW_OP_regx);
			int covers = born ? start == pc : start <= pc && pc < end;
			if (!covers || !in_register)
				continue;
			describe_location(expr, exprlen, where, len);
			return 0;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return -1;
}

int dwarf_variable_born_at(struct dwarf_file *df, uint64_t function, const char *name, uint64_t pc,
			   char *where, size_t len)
{
	Dwarf_Die fn;
	if (dwarf_function_at(df, function, &fn))
		return -1;
	return variable_at(&fn, name, pc, 1, where, len, 0);
}

int dwarf_variable_at(struct dwarf_file *df, uint64_t function, const char *name, uint64_t pc,
		      char *where, size_t len)
{
	Dwarf_Die fn;
	if (dwarf_function_at(df, function, &fn))
		return -1;
	return variable_at(&fn, name, pc, 0, where, len, 0);
}
