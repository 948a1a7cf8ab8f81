/* What the doctor learns about an interpreter from its DWARF beyond the symbols: argument
 * registers, functions only DWARF names, inlined copies. Used by interp.c only. */
#include "interp_dwarf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_inline.h"
#include "probe_regs.h"
#include "x86_insn.h"

/* The debug file when there is one (its DWARF describes the stripped file), else the file. */
static struct dwarf_file *open_dwarf(const struct symbol_table *t, const char *path, char *used,
				     size_t len)
{
	const char *debug = symbol_table_debug_file(t);
	struct dwarf_file *df = debug ? dwarf_file_open(debug) : NULL;
	if (!df && (df = dwarf_file_open(path)))
		debug = path;
	if (df && used)
		snprintf(used, len, "%s", debug);
	return df;
}

/* The parameter `alternatives` names ("self|op": CPython renames them between versions). */
static const struct dwarf_param *find_param(const struct dwarf_params *params,
					    const char *alternatives, size_t len)
{
	for (const char *a = alternatives; a < alternatives + len;) {
		size_t n = strcspn(a, "|");
		if (n > len - (size_t)(a - alternatives))
			n = len - (size_t)(a - alternatives);
		for (size_t i = 0; params && i < params->n; i++)
			if (strlen(params->p[i].name) == n && strncmp(params->p[i].name, a, n) == 0)
				return &params->p[i];
		a += n + 1;
	}
	return NULL;
}

/* Copies the locations of the parameters named in `names` (space-separated; each may list
 * alternative names separated by '|'). Without `params` (no DWARF) the locations are "?". */
static size_t pick_args(const char *names, const struct dwarf_params *params, struct probe_arg *out,
			size_t max)
{
	size_t n = 0;
	for (const char *s = names; s && *s && n < max;) {
		size_t len = strcspn(s, " ");
		struct probe_arg *a = &out[n++];
		const struct dwarf_param *found = find_param(params, s, len);
		if (found) {
			snprintf(a->name, sizeof(a->name), "%s", found->name);
			snprintf(a->where, sizeof(a->where), "%s", found->where);
		} else {
			snprintf(a->name, sizeof(a->name), "%.*s", (int)strcspn(s, "| "), s);
			/* with DWARF, a parameter a clone dropped is not listed at all */
			snprintf(a->where, sizeof(a->where), "%s", params ? "absent" : "?");
		}
		s += len;
		s += strspn(s, " ");
	}
	return n;
}

/* Whether every argument the program reads is in a register (plus a constant, maybe). */
static int args_in_registers(const struct probe_arg *args, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int32_t offset;
		if (probe_reg_parse(args[i].where, &offset) == PYREG_NONE)
			return 0;
	}
	return 1;
}

/* Moves an entry point whose instruction the kernel must single-step (~9 us a hit: `sub $8,
 * %rsp` after endbr64, say) to the first one of the function's entry block it emulates (~0.5
 * us), if DWARF has every argument the program reads in a register there. */
static void prefer_emulated(const struct symbol_table *t, Dwarf_Die *fn, struct probe_point *p)
{
	uint8_t code[64];
	struct x86_insn insn;
	if (!t || symbol_table_read(t, p->vaddr, code, sizeof(code)) ||
	    !x86_insn_decode(code, sizeof(code), &insn) || insn.emulated)
		return;
	for (size_t off = 0; off < sizeof(code) && !insn.ends_block;) {
		off += insn.len;
		if (!x86_insn_decode(code + off, sizeof(code) - off, &insn))
			return;
		if (!insn.emulated)
			continue;
		uint64_t pc = p->vaddr + off, file_offset;
		struct dwarf_params params;
		struct probe_arg args[6];
		dwarf_die_params(fn, pc, &params);
		size_t n = pick_args(p->spec->args, &params, args, sizeof(args) / sizeof(args[0]));
		if (n != p->nargs || !args_in_registers(args, n) ||
		    symbol_table_vaddr_to_offset(t, pc, &file_offset))
			return;
		memcpy(p->args, args, sizeof(args));
		p->vaddr = pc;
		p->file_offset = file_offset;
		return;
	}
}

static void fill_args(const struct symbol_table *t, struct dwarf_file *df, struct probe_point *p,
		      int move)
{
	if (!p->found || p->spec->is_return || p->kind != PROBE_FUNCTION)
		return;
	Dwarf_Die fn;
	struct dwarf_params params;
	int have = df && dwarf_function_at(df, p->entry, &fn) == 0;
	if (have)
		dwarf_die_params(&fn, p->vaddr, &params);
	p->nargs = pick_args(p->spec->args, have ? &params : NULL, p->args,
			     sizeof(p->args) / sizeof(p->args[0]));
	if (move && have && args_in_registers(p->args, p->nargs))
		prefer_emulated(t, &fn, p);
	/* DWARF without this function (3.14's lock_dealloc): a copy whose signature GCC kept
	 * (no IPA clone) takes its arguments as the calling convention says, in the order the
	 * program reads them, as on 3.11 without DWARF */
	static const char *const abi[] = {"rdi", "rsi", "rdx", "rcx", "r8", "r9"};
	int clone = strstr(p->symbol, ".isra.") || strstr(p->symbol, ".constprop.");
	for (size_t i = 0; df && !have && i < p->nargs; i++) {
		if (clone || i >= sizeof(abi) / sizeof(abi[0]))
			snprintf(p->args[i].where, sizeof(p->args[i].where), "no DIE");
		else
			snprintf(p->args[i].where, sizeof(p->args[i].where), "%s (no DIE)", abi[i]);
	}
}

/* Is `name` a function the table probes (an inlined copy inside one is seen through it)? */
static int is_probed(const struct interp_info *in, const char *name)
{
	for (size_t i = 0; i < in->table->count; i++)
		if (strcmp(in->table->specs[i].function, name) == 0)
			return 1;
	return 0;
}

/* Whether function `name` starts with one of the '|'-separated `prefixes`. */
static int within(const char *name, const char *prefixes)
{
	for (const char *p = prefixes; *p;) {
		size_t n = strcspn(p, "|");
		if (strncmp(name, p, n) == 0)
			return 1;
		p += n + (p[n] == '|');
	}
	return 0;
}

static void record_sites(struct interp_info *in, const struct symbol_table *core, size_t probe,
			 const struct inline_query *q)
{
	struct probe_point *p = &in->probes[probe];
	p->ninlined = q->nsites;
	for (size_t k = 0; k < q->nsites; k++) {
		const struct inline_site *s = &q->sites[k];
		int covered = is_probed(in, s->caller);
		p->ninlined_uncovered += !covered;
		const char *holder_name = s->caller;
		struct elf_symbol holder;
		if (symbol_table_function_at(core, s->entry_pc, &holder) == 0)
			holder_name = holder.name;
		const struct inline_spec *how = probe_table_inline(in->table, p->spec->function);
		int wanted = !covered && how && (!how->within || within(holder_name, how->within));
		p->ninlined_wanted += wanted;
		in->ninlined_total++;
		if (in->ninlined == sizeof(in->inlined) / sizeof(in->inlined[0]))
			continue;
		struct interp_inline_site *out = &in->inlined[in->ninlined++];
		*out = (struct interp_inline_site){
		    .probe = probe,
		    .entry_pc = s->entry_pc,
		    .low = s->low,
		    .high = s->high,
		    .nranges = s->nranges,
		    .covered = covered,
		    .wanted = wanted,
		};
		if (symbol_table_function_at(core, s->entry_pc, &holder) == 0) {
			snprintf(out->caller, sizeof(out->caller), "%s", holder.name);
			out->caller_offset = s->entry_pc - holder.vaddr;
		} else {
			snprintf(out->caller, sizeof(out->caller), "%s", s->caller);
			out->caller_offset = s->entry_pc - s->caller_low;
		}
		out->nargs = pick_args(p->spec->args, &s->params, out->args,
				       sizeof(out->args) / sizeof(out->args[0]));
	}
}

/* Appends a probe point on an inlined copy: where it starts, or with `result` where that
 * variable of its caller is born right after the copy's code. 0 when added. */
static int add_inline_point(struct interp_info *in, const struct symbol_table *core,
			    struct dwarf_file *df, const struct interp_inline_site *s,
			    const char *result)
{
	const struct probe_spec *spec = in->probes[s->probe].spec;
	const struct inline_spec *how = probe_table_inline(in->table, spec->function);
	struct probe_point p = {.spec = spec, .found = 1, .source = "DWARF inlined"};
	p.kind = result ? PROBE_INLINE_EXIT : PROBE_INLINE_ENTRY;
	p.program = result ? how->exit : how->entry;
	p.entry = p.vaddr = s->entry_pc;
	if (result) {
		/* the end of the copy's first range, if the caller's variable gets the result
		 * there: the instruction every path out of the copy reaches */
		uint64_t caller = s->entry_pc - s->caller_offset;
		p.vaddr = s->high;
		if (!s->high || dwarf_variable_born_at(df, caller, result, s->high, p.args[0].where,
						       sizeof(p.args[0].where)))
			return -1;
		snprintf(p.args[0].name, sizeof(p.args[0].name), "%s", result);
		p.nargs = 1;
	} else if (!args_in_registers(s->args, s->nargs) && how->callable) {
		/* the copy's own arguments are gone there: the caller still holds the callable */
		uint64_t caller = s->entry_pc - s->caller_offset;
		if (dwarf_variable_at(df, caller, how->callable, s->entry_pc, p.args[0].where,
				      sizeof(p.args[0].where)))
			return -1;
		snprintf(p.args[0].name, sizeof(p.args[0].name), "%s", how->callable);
		p.nargs = 1;
		p.program = how->via_callable;
	} else {
		memcpy(p.args, s->args, sizeof(p.args));
		p.nargs = s->nargs;
	}
	if (symbol_table_vaddr_to_offset(core, p.vaddr, &p.file_offset) ||
	    in->nprobes == sizeof(in->probes) / sizeof(in->probes[0]))
		return -1;
	snprintf(p.symbol, sizeof(p.symbol), "%s+%" PRIu64, s->caller,
		 p.vaddr - s->entry_pc + s->caller_offset);
	in->probes[in->nprobes++] = p;
	return 0;
}

/* Inlined copies outside probed functions, for the functions whose spec says how to probe
 * them: an entry point, and an exit point when the program needs the copy's result. */
static void add_inline_points(struct interp_info *in, const struct symbol_table *core,
			      struct dwarf_file *df)
{
	for (size_t k = 0; k < in->ninlined; k++) {
		struct interp_inline_site *s = &in->inlined[k];
		const struct inline_spec *how =
		    probe_table_inline(in->table, in->probes[s->probe].spec->function);
		if (!s->wanted)
			continue;
		size_t before = in->nprobes;
		if (add_inline_point(in, core, df, s, NULL) ||
		    (how->exit && add_inline_point(in, core, df, s, how->result))) {
			in->nprobes = before; /* half a pair would miss or invent acquires */
			continue;
		}
		s->traced = 1;
		in->probes[s->probe].ninlined_traced++;
	}
}

/* One query per probed core function: by the address of its first copy, or by name when no
 * symbol was found. `first[i]` is the probe index query i belongs to. */
static size_t build_queries(struct interp_info *in, struct inline_query *q, size_t *first,
			    size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < in->nprobes && n < max; i++) {
		const struct probe_point *p = &in->probes[i];
		if (p->spec->module != PROBE_IN_CORE || p->spec->is_return)
			continue;
		size_t j = 0;
		while (j < n && strcmp(in->probes[first[j]].spec->function, p->spec->function) != 0)
			j++;
		if (j < n)
			continue;
		q[n] = (struct inline_query){.vaddr = p->found ? p->entry : 0,
					     .name = p->spec->function};
		first[n++] = i;
	}
	return n;
}

/* A function no symbol names but DWARF does: probe its first out-of-line copy. */
static void adopt_dwarf_definition(struct interp_info *in, const struct symbol_table *core,
				   const struct inline_query *q)
{
	for (size_t i = 0; i < in->nprobes && q->ndefs; i++) {
		struct probe_point *p = &in->probes[i];
		if (p->found || p->spec->module != PROBE_IN_CORE ||
		    strcmp(p->spec->function, q->name) != 0)
			continue;
		if (interp_probe_at(core, q->defs[0], p->spec->is_return, p))
			continue;
		snprintf(p->symbol, sizeof(p->symbol), "%s", q->name);
		p->source = "DWARF";
	}
}

void interp_dwarf_pass(struct interp_info *in, const struct symbol_table *core,
		       const struct symbol_table *queue)
{
	struct dwarf_file *df = open_dwarf(core, in->core, in->dwarf_file, sizeof(in->dwarf_file));
	struct dwarf_file *qdf = queue ? open_dwarf(queue, in->queue_ext, NULL, 0) : NULL;
	struct inline_query queries[PYRACE_MAX_PROBES];
	size_t first[PYRACE_MAX_PROBES];
	size_t nq = df ? build_queries(in, queries, first, PYRACE_MAX_PROBES) : 0;
	struct inline_walk_stats stats;
	if (nq && dwarf_find_inlined(df, queries, nq, &stats) == 0) {
		in->dwarf_walk_seconds = stats.seconds;
		in->dwarf_units = stats.units;
		in->dwarf_units_walked = stats.units_walked;
		for (size_t i = 0; i < nq; i++) {
			if (!queries[i].vaddr)
				adopt_dwarf_definition(in, core, &queries[i]);
			record_sites(in, core, first[i], &queries[i]);
		}
		add_inline_points(in, core, df);
	}
	for (size_t i = 0; i < nq; i++)
		inline_query_release(&queries[i]);
	for (size_t i = 0; i < in->nprobes; i++) {
		struct probe_point *p = &in->probes[i];
		int core_point = p->spec->module == PROBE_IN_CORE;
		/* 3.11 is traced without DWARF: its points stay where pyrace run puts them */
		fill_args(core_point ? core : queue, core_point ? df : qdf, p,
			  in->has_debug_offsets);
	}
	dwarf_file_close(qdf);
	dwarf_file_close(df);
}
