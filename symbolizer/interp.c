/* Finding a CPython interpreter in an executable: version, build, struct layout, probe points. */
#include "interp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug_offsets.h"
#include "dwarf_file.h"
#include "elf_symbols.h"
#include "interp_dwarf.h"
#include "layout.h"
#include "probe_regs.h"
#include "tls_offset.h"

static int exports_interpreter(const struct symbol_table *t)
{
	struct elf_symbol s;
	return symbol_table_find_object(t, "_PyRuntime", &s) == 0 &&
	       symbol_table_find_object(t, "Py_Version", &s) == 0;
}

/* Expands $ORIGIN in one run-path entry. */
static void expand_origin(const char *entry, const char *exe, char *out, size_t outlen)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", exe);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	const char *o = strstr(entry, "$ORIGIN");
	if (o)
		snprintf(out, outlen, "%.*s%s%s", (int)(o - entry), entry, dir, o + 7);
	else
		snprintf(out, outlen, "%s", entry);
}

static int search_path_list(const char *list, const char *exe, const char *lib, char *out,
			    size_t outlen)
{
	if (!list)
		return -1;
	char *copy = strdup(list), *save = NULL;
	int rc = -1;
	for (char *dir = strtok_r(copy, ":", &save); dir && rc; dir = strtok_r(NULL, ":", &save)) {
		char expanded[PATH_MAX];
		expand_origin(dir, exe, expanded, sizeof(expanded));
		snprintf(out, outlen, "%s/%s", expanded, lib);
		if (access(out, R_OK) == 0)
			rc = 0;
	}
	free(copy);
	return rc;
}

/* Finds libpython among the executable's dependencies the way the dynamic loader would. */
static int find_libpython(const struct symbol_table *t, const char *exe, const char *ld_path,
			  char *out, size_t outlen)
{
	const char *needed[16];
	size_t n = symbol_table_needed(t, needed, 16);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(needed[i], "libpython3", 10) != 0)
			continue;
		if (search_path_list(symbol_table_runpath(t), exe, needed[i], out, outlen) == 0 ||
		    search_path_list(ld_path, exe, needed[i], out, outlen) == 0 ||
		    search_path_list(
			"/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/usr/local/lib:"
			"/lib64:/usr/lib64:/lib:/usr/lib",
			exe, needed[i], out, outlen) == 0)
			return 0;
	}
	return -1;
}

/* <prefix>/lib/pythonX.Y/lib-dynload/_queue.cpython-XY-*.so, prefix = two levels above core;
 * a free-threaded build's ABI tag adds a `t` to both (python3.13t, cpython-313t). */
static void find_queue_extension(struct interp_info *in)
{
	const char *t = in->free_threaded ? "t" : "";
	char prefix[PATH_MAX];
	snprintf(prefix, sizeof(prefix), "%s", in->core);
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(prefix, '/');
		if (slash)
			*slash = '\0';
	}
	const char *arches[] = {"x86_64-linux-gnu", "aarch64-linux-gnu"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(in->queue_ext, sizeof(in->queue_ext),
			 "%s/lib/python%u.%u%s/lib-dynload/_queue.cpython-%u%u%s-%s.so", prefix,
			 in->major, in->minor, t, in->major, in->minor, t, arches[i]);
		if (access(in->queue_ext, R_OK) == 0)
			return;
	}
	in->queue_ext[0] = '\0';
}

static const char *source_name(enum symbol_source s)
{
	switch (s) {
	case SYM_FROM_DYNSYM:
		return "dynsym";
	case SYM_FROM_SYMTAB:
		return "symtab";
	default:
		return "debug symtab";
	}
}

int interp_probe_at(const struct symbol_table *t, uint64_t vaddr, int is_return,
		    struct probe_point *p)
{
	unsigned char insn[4];
	static const unsigned char endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	p->entry = vaddr;
	/* a uprobe on endbr64 is single-stepped (~9 us a hit instead of ~0.5 us). A return probe
	 * moves too: endbr64 leaves the stack alone, so the return address is still at the top
	 * of the stack when the kernel swaps it for its trampoline. */
	(void)is_return;
	if (symbol_table_read(t, vaddr, insn, 4) == 0 && memcmp(insn, endbr64, 4) == 0)
		vaddr += 4;
	if (symbol_table_vaddr_to_offset(t, vaddr, &p->file_offset))
		return -1;
	p->vaddr = vaddr;
	p->found = 1;
	return 0;
}

/* Resolves the probe points of one spec: its best-named copy, or with `all_clones` every
 * whole copy. Returns how many points were filled (0 = not found: one unfound point). */
static size_t resolve_probe(const struct symbol_table *t, const struct probe_spec *spec,
			    int all_clones, struct probe_point *points, size_t room)
{
	struct elf_symbol syms[8];
	size_t n = 0;
	points[0] = (struct probe_point){.spec = spec};
	if (t)
		n = symbol_table_find_functions(t, spec->function, syms, all_clones ? 8 : 1);
	size_t filled = 0;
	for (size_t i = 0; i < n && filled < room; i++) {
		struct probe_point *p = &points[filled];
		*p = (struct probe_point){.spec = spec};
		if (interp_probe_at(t, syms[i].vaddr, spec->is_return, p))
			continue;
		snprintf(p->symbol, sizeof(p->symbol), "%s", syms[i].name);
		p->source = source_name(syms[i].source);
		filled++;
	}
	if (!filled)
		points[0] = (struct probe_point){.spec = spec};
	return filled;
}

static int read_object_address(const struct symbol_table *t, const char *name, __u64 *addr)
{
	struct elf_symbol s;
	if (symbol_table_find_object(t, name, &s))
		return -1;
	*addr = s.vaddr;
	return 0;
}

static const char *debug_package_hint(const struct interp_info *in, char *buf, size_t len)
{
	if (strncmp(in->core, "/usr/", 5) == 0 || strncmp(in->core, "/lib/", 5) == 0)
		snprintf(buf, len, "install python%u.%u-dbg", in->major, in->minor);
	else
		snprintf(buf, len, "use an unstripped build or install its debug symbols");
	return buf;
}

/* An interpreter inside a chroot or sysroot (CHROOT/usr/bin/python3.13) has its debug files in
 * CHROOT/usr/lib/debug, not in the host's. Finds the nearest such ancestor below /. */
static const char *sysroot_debug_dir(const char *exe, char *buf, size_t len)
{
	char dir[PATH_MAX];
	if (!realpath(exe, dir))
		return NULL;
	char *slash;
	while ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		char probe[PATH_MAX + 32];
		snprintf(probe, sizeof(probe), "%s/usr/lib/debug/.build-id", dir);
		if (access(probe, R_OK | X_OK) == 0) {
			snprintf(buf, len, "%s/usr/lib/debug", dir);
			return buf;
		}
	}
	return NULL;
}

/* Opens `path` with its debug file from `debug_dir`, else from the sysroot's `alt`. */
static struct symbol_table *open_symbols(const char *path, const char *debug_dir, const char *alt)
{
	struct symbol_table *t = symbol_table_open(path, debug_dir);
	if (!t || symbol_table_debug_file(t) || !alt || (debug_dir && strcmp(alt, debug_dir) == 0))
		return t;
	struct symbol_table *in_sysroot = symbol_table_open(path, alt);
	if (in_sysroot && symbol_table_debug_file(in_sysroot)) {
		symbol_table_close(t);
		return in_sysroot;
	}
	symbol_table_close(in_sysroot);
	return t;
}

const char *interp_flavour(int free_threaded, int py_debug)
{
	if (free_threaded)
		return py_debug ? "free-threaded Py_DEBUG" : "free-threaded";
	return py_debug ? "Py_DEBUG" : "release";
}

/* _Py_DebugOffsets sits at the start of .PyRuntime (3.13+); older versions have neither. */
static void read_debug_offsets(const struct symbol_table *t, struct interp_info *out,
			       struct py_debug_offsets *d)
{
	uint64_t vaddr, size;
	static unsigned char buf[PY_DEBUG_OFFSETS_MAX];
	memset(d, 0, sizeof(*d));
	if (symbol_table_section(t, ".PyRuntime", &vaddr, &size))
		return;
	size_t len = size < sizeof(buf) ? (size_t)size : sizeof(buf);
	if (symbol_table_read(t, vaddr, buf, len))
		return;
	if (debug_offsets_parse(buf, len, d) != DEBUG_OFFSETS_OK)
		return;
	out->has_debug_offsets = 1;
	out->debug_offsets_version = d->version;
	out->free_threaded = d->free_threaded;
}

static int is_py_debug(const struct symbol_table *t)
{
	struct elf_symbol s;
	return symbol_table_find_function(t, "_Py_NegativeRefcount", &s) == 0 ||
	       symbol_table_find_object(t, "_Py_RefTotal", &s) == 0;
}

/* What a 3.13+ build must give beyond its probe points' symbols for pyrace run. */
static enum interp_status check_new_version(const struct interp_info *in, char *why, size_t whylen)
{
	if (!in->layout.tls_tstate) {
		snprintf(why, whylen,
			 "%s: cannot locate the thread state (_Py_tss_tstate) of this build: only "
			 "an executable with libpython linked in is supported on CPython %u.%u",
			 in->core, in->major, in->minor);
		return INTERP_UNSUPPORTED;
	}
	for (size_t i = 0; i < in->nprobes; i++) {
		const struct probe_point *p = &in->probes[i];
		if (p->found && p->regs_unusable) {
			snprintf(why, whylen,
				 "no usable debug info for %s: the arguments of %s are not all in "
				 "registers at its probe point",
				 in->core, p->symbol);
			return INTERP_NO_DEBUG_INFO;
		}
		/* a copy left unprobed would hide every operation it performs */
		if (p->kind == PROBE_FUNCTION && p->ninlined_wanted > p->ninlined_traced) {
			snprintf(
			    why, whylen,
			    "%s: %zu inlined cop%s of %s cannot be probed (the debug info does "
			    "not place its arguments and result in registers)",
			    in->core, p->ninlined_wanted - p->ninlined_traced,
			    p->ninlined_wanted - p->ninlined_traced == 1 ? "y" : "ies",
			    p->spec->function);
			return INTERP_NO_DEBUG_INFO;
		}
	}
	return INTERP_OK;
}

/* A free-threaded build's object header is bigger, which moves the fields of every object: no
 * table of ours has them, the build's DWARF does (its debug file, else the file itself). */
static int free_threaded_layout(struct interp_info *in, const struct symbol_table *core,
				const struct py_debug_offsets *d, char *why, size_t whylen)
{
	const char *debug = symbol_table_debug_file(core);
	struct dwarf_file *df = debug ? dwarf_file_open(debug) : NULL;
	if (!df)
		df = dwarf_file_open(in->core);
	char missing[512];
	int rc = -1;
	if (!df)
		snprintf(why, whylen,
			 "no debug info for %s: a free-threaded build's struct layout is read from "
			 "its DWARF; use an unstripped build or install its debug symbols",
			 in->core);
	else if ((rc = layout_from_dwarf(in, d, df, missing, sizeof(missing))))
		snprintf(why, whylen, "%s: its DWARF does not describe %s", in->core, missing);
	dwarf_file_close(df);
	return rc;
}

static enum interp_status inspect(const char *exe, const char *ld_library_path,
				  const char *debug_dir, struct interp_info *out, char *why,
				  size_t whylen, int full)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->exe, sizeof(out->exe), "%s", exe);
	char alt_buf[PATH_MAX];
	const char *alt = sysroot_debug_dir(exe, alt_buf, sizeof(alt_buf));
	struct symbol_table *exe_syms = open_symbols(exe, debug_dir, alt);
	if (!exe_syms) {
		snprintf(why, whylen, "%s is not an ELF executable", exe);
		return INTERP_NOT_ELF;
	}
	struct symbol_table *core = exe_syms, *queue = NULL;
	enum interp_status status = INTERP_OK;
	if (exports_interpreter(exe_syms)) {
		snprintf(out->core, sizeof(out->core), "%s", exe);
	} else if (find_libpython(exe_syms, exe, ld_library_path, out->core, sizeof(out->core)) ==
		   0) {
		core = open_symbols(out->core, debug_dir, alt);
		if (!core || !exports_interpreter(core)) {
			snprintf(why, whylen, "%s: %s is not a usable libpython", exe, out->core);
			status = INTERP_NOT_PYTHON;
			goto done;
		}
	} else {
		snprintf(why, whylen, "%s is not a CPython interpreter", exe);
		status = INTERP_NOT_PYTHON;
		goto done;
	}

	__u64 version_addr;
	uint32_t hex = 0;
	if (read_object_address(core, "Py_Version", &version_addr) ||
	    symbol_table_read(core, version_addr, &hex, sizeof(hex))) {
		snprintf(why, whylen, "%s: cannot read Py_Version (CPython older than 3.11?)",
			 out->core);
		status = INTERP_UNSUPPORTED;
		goto done;
	}
	out->version_hex = hex;
	out->major = (hex >> 24) & 0xff;
	out->minor = (hex >> 16) & 0xff;
	out->micro = (hex >> 8) & 0xff;
	snprintf(out->version, sizeof(out->version), "%u.%u.%u", out->major, out->minor,
		 out->micro);
	struct py_debug_offsets offsets;
	read_debug_offsets(core, out, &offsets);
	int py_debug = is_py_debug(core);
	out->build = interp_flavour(out->free_threaded, py_debug);
	if (py_debug) {
		snprintf(why, whylen, "%s: CPython %s debug build (Py_DEBUG) is not supported yet",
			 out->core, out->version);
		status = INTERP_UNSUPPORTED;
	} else if (out->free_threaded && (out->major != 3 || out->minor != 13)) {
		snprintf(why, whylen,
			 "%s: CPython %s free-threaded build is not supported yet (supported: "
			 "3.13t)",
			 out->core, out->version);
		status = INTERP_UNSUPPORTED;
	} else if (out->major != 3 || (out->minor != 11 && out->minor != 13 && out->minor != 14)) {
		snprintf(why, whylen,
			 "%s: CPython %s is not supported yet (supported: 3.11, 3.13, 3.14)",
			 out->core, out->version);
		status = INTERP_UNSUPPORTED;
	}
	if (status != INTERP_OK && !full)
		goto done;
	if (out->major == 3 && out->minor == 11)
		layout_for_311(out);
	else if (!out->has_debug_offsets)
		goto done; /* no layout known: nothing more to show */
	else if (out->free_threaded) {
		if (free_threaded_layout(out, core, &offsets, why, whylen)) {
			status = status == INTERP_OK ? INTERP_NO_DEBUG_INFO : status;
			goto done;
		}
	} else if (layout_for_313_314(out, &offsets))
		goto done;
	out->table = probe_table_for_build(out->major, out->minor, out->free_threaded);
	if (!out->table)
		goto done;
	out->core_is_dynamic = symbol_table_is_dynamic(core);
	out->core_has_symtab = symbol_table_has_own_symtab(core);
	struct pyrace_layout *l = &out->layout;
	if (read_object_address(core, "_PyRuntime", &l->runtime_addr) ||
	    read_object_address(core, "PyDict_Type", &l->dict_type_addr) ||
	    read_object_address(core, "PyUnicode_Type", &l->str_type_addr) ||
	    read_object_address(core, "PyLong_Type", &l->int_type_addr) ||
	    read_object_address(core, "_Py_TrueStruct", &l->true_addr) ||
	    read_object_address(core, "PyCode_Type", (__u64 *)&out->code.code_type_addr)) {
		if (status == INTERP_OK) {
			snprintf(why, whylen, "%s: exported interpreter objects are missing",
				 out->core);
			status = INTERP_UNSUPPORTED;
		}
		goto done;
	}
	/* without them lists and sets are simply not watched */
	if (read_object_address(core, "PyList_Type", &l->list_type_addr) ||
	    read_object_address(core, "PySet_Type", &l->set_type_addr))
		l->list_type_addr = l->set_type_addr = 0;
	if (symbol_table_debug_file(core))
		snprintf(out->debug_file, sizeof(out->debug_file), "%s",
			 symbol_table_debug_file(core));

	find_queue_extension(out);
	if (out->queue_ext[0])
		queue = open_symbols(out->queue_ext, debug_dir, alt);

	size_t room = sizeof(out->probes) / sizeof(out->probes[0]);
	for (size_t i = 0; i < out->table->count && out->nprobes < room; i++) {
		const struct probe_spec *spec = &out->table->specs[i];
		const struct symbol_table *t = spec->module == PROBE_IN_CORE ? core : queue;
		size_t n = resolve_probe(t, spec, out->table->all_clones,
					 &out->probes[out->nprobes], room - out->nprobes);
		out->nprobes += n ? n : 1;
	}
	/* 3.13+ clones move arguments and inline probed functions: pyrace run needs DWARF too */
	if (full || out->has_debug_offsets) {
		interp_dwarf_pass(out, core, queue);
		probe_regs_resolve(out);
	}
	if (out->has_debug_offsets) {
		out->layout.code_type_addr = out->code.code_type_addr;
		if (tls_variable_offset(core, out->core, "_Py_tss_tstate",
					"_PyThreadState_GetCurrent", &out->threads.tls_tstate) == 0)
			out->layout.tls_tstate = out->threads.tls_tstate;
	}
	const char *first_missing = NULL;
	size_t nmissing = 0;
	for (size_t i = 0; i < out->nprobes; i++) {
		const struct probe_point *p = &out->probes[i];
		if (p->spec->module == PROBE_IN_CORE && !p->spec->is_return &&
		    probe_point_missing(p)) {
			first_missing = first_missing ? first_missing : p->spec->function;
			nmissing++;
		}
	}
	if (!nmissing && status == INTERP_OK && out->has_debug_offsets)
		status = check_new_version(out, why, whylen);
	if (nmissing && status == INTERP_OK) {
		char hint[128];
		snprintf(why, whylen,
			 "no debug info for %s: %zu internal function%s such as %s %s not in its "
			 "symbols; %s",
			 out->core, nmissing, nmissing == 1 ? "" : "s", first_missing,
			 nmissing == 1 ? "is" : "are", debug_package_hint(out, hint, sizeof(hint)));
		status = INTERP_NO_DEBUG_INFO;
	}
done:
	if (queue)
		symbol_table_close(queue);
	if (core && core != exe_syms)
		symbol_table_close(core);
	symbol_table_close(exe_syms);
	return status;
}

enum interp_status interp_inspect(const char *exe, const char *ld_library_path,
				  const char *debug_dir, struct interp_info *out, char *why,
				  size_t whylen)
{
	return inspect(exe, ld_library_path, debug_dir, out, why, whylen, 0);
}

enum interp_status interp_inspect_all(const char *exe, const char *ld_library_path,
				      const char *debug_dir, struct interp_info *out, char *why,
				      size_t whylen)
{
	return inspect(exe, ld_library_path, debug_dir, out, why, whylen, 1);
}

int probe_point_missing(const struct probe_point *p)
{
	if (p->found || probe_spec_optional(p->spec))
		return 0;
	/* a function inlined everywhere is seen through probes on all of its copies */
	return !p->ninlined_uncovered || p->ninlined_traced < p->ninlined_uncovered;
}

void interp_skip_reads(struct interp_info *in)
{
	for (size_t i = 0; i < in->nprobes; i++) {
		const char *cls = in->probes[i].spec->event_class;
		if (strcmp(cls, "dict reads") == 0 || strcmp(cls, "dict iteration") == 0 ||
		    strcmp(cls, "list reads") == 0 || strcmp(cls, "set reads") == 0)
			in->probes[i].found = 0;
	}
	in->no_reads = 1;
}
