/* --global-reads: making reads of globals by specialised code visible (CPython 3.11, USDT).
 *
 * CPython 3.11 checks the `line` probe's semaphore at every instruction dispatch
 * (`opcode |= cframe.use_tracing OR_DTRACE_LINE`): while it is non-zero every instruction goes
 * through DO_TRACING, which runs the *unspecialised* form of the instruction
 * (`_PyOpcode_Deopt`). LOAD_GLOBAL_MODULE is then LOAD_GLOBAL again, which looks the name up in
 * the module dict through _PyDict_LoadGlobal -> _Py_dict_lookup, a function pyrace already
 * probes. So raising the semaphore is all the mode needs; the kernel does it (uprobe with a
 * reference counter) and lowers it again when the probe goes, so pyrace writes nothing itself.
 * Each new line still passes the USDT site, a single nop while no uprobe sits on it.
 * 3.12 replaced this machinery (PEP 669), hence 3.11 only. */
#include "global_reads.h"

#include <stdio.h>

#include "elf_symbols.h"

/* The semaphore counts uprobes registered with it as reference counter, wherever they are. At
 * the line site itself ours would trap at every new line (~0.45 us each: most of the mode's
 * cost); at the entry of a function the interpreter only calls to die, it never fires. */
#define SEMAPHORE_SITE "Py_FatalError"

static void choose_site(struct interp_info *in)
{
	struct symbol_table *t = symbol_table_open(in->core, NULL);
	struct elf_symbol sym;
	uint64_t offset;
	if (t && symbol_table_find_function(t, SEMAPHORE_SITE, &sym) == 0 &&
	    symbol_table_vaddr_to_offset(t, sym.vaddr, &offset) == 0) {
		in->semaphore_site = offset;
		snprintf(in->semaphore_site_name, sizeof(in->semaphore_site_name), "%s",
			 SEMAPHORE_SITE);
	} else {
		in->semaphore_site = in->line_probe.pc_offset;
		snprintf(in->semaphore_site_name, sizeof(in->semaphore_site_name), "python:line");
	}
	symbol_table_close(t);
}

int interp_enable_global_reads(struct interp_info *in, char *why, size_t whylen)
{
	if (in->major != 3 || in->minor != 11) {
		snprintf(
		    why, whylen,
		    "--global-reads is not possible for this interpreter: it needs CPython 3.11 "
		    "(its USDT line probe deoptimises LOAD_GLOBAL); %s is %s",
		    in->exe, in->version);
		return -1;
	}
	char detail[512];
	if (usdt_find(in->core, "python", "line", &in->line_probe, detail, sizeof(detail))) {
		snprintf(why, whylen, "--global-reads is not possible for this interpreter: %s",
			 detail);
		return -1;
	}
	if (!in->line_probe.semaphore) {
		snprintf(why, whylen,
			 "--global-reads is not possible for this interpreter: %s: the python:line "
			 "probe has no semaphore",
			 in->core);
		return -1;
	}
	choose_site(in);
	in->global_reads = 1;
	return 0;
}
