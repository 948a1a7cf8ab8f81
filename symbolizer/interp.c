/* Finding a CPython interpreter in an executable: version, build, struct layout, probe points. */
#include "interp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_symbols.h"

const struct probe_spec probe_specs[] = {
    {"insertdict", "insertdict", 0, PROBE_IN_CORE, "dict writes"},
    {"insert_to_emptydict", "insert_to_emptydict", 0, PROBE_IN_CORE, "dict writes"},
    {"dict_delitem", "PyDict_DelItem", 0, PROBE_IN_CORE, "dict deletes"},
    {"dict_pop", "dict_pop", 0, PROBE_IN_CORE, "dict pops"},
    {"dict_popitem", "dict_popitem", 0, PROBE_IN_CORE, "dict pops"},
    {"dict_clear", "PyDict_Clear", 0, PROBE_IN_CORE, "dict clears"},
    {"dict_setdefault", "PyDict_SetDefault", 0, PROBE_IN_CORE, "dict setdefault"},
    {"dict_merge", "dict_merge", 0, PROBE_IN_CORE, "dict updates"},
    {"dict_lookup", "_Py_dict_lookup", 0, PROBE_IN_CORE, "dict reads"},
    {"dict_contains", "PyDict_Contains", 0, PROBE_IN_CORE, "dict reads"},
    {"dict_get", "dict_get", 0, PROBE_IN_CORE, "dict reads"},
    {"dict_iterate", "dict_iter", 0, PROBE_IN_CORE, "dict iteration"},
    {"dict_iterate", "PyDict_Copy", 0, PROBE_IN_CORE, "dict iteration"},
    {"dictview_iterate", "dictkeys_iter", 0, PROBE_IN_CORE, "dict iteration"},
    {"dictview_iterate", "dictitems_iter", 0, PROBE_IN_CORE, "dict iteration"},
    {"dictview_iterate", "dictvalues_iter", 0, PROBE_IN_CORE, "dict iteration"},
    {"dict_dealloc", "dict_dealloc", 0, PROBE_IN_CORE, "dict lifetime"},
    {"registry_remove", "_PyDict_DelItemIf", 0, PROBE_IN_CORE, "weak registries"},
    {"module_init_dict", "module_init_dict", 0, PROBE_IN_CORE, "module namespaces"},
    {"lock_acquire_entry", "lock_PyThread_acquire_lock", 0, PROBE_IN_CORE, "Lock"},
    {"lock_acquire_return", "lock_PyThread_acquire_lock", 1, PROBE_IN_CORE, "Lock"},
    {"lock_release", "lock_PyThread_release_lock", 0, PROBE_IN_CORE, "Lock"},
    {"lock_acquire_entry", "rlock_acquire", 0, PROBE_IN_CORE, "RLock"},
    {"lock_acquire_return", "rlock_acquire", 1, PROBE_IN_CORE, "RLock"},
    {"lock_release", "rlock_release", 0, PROBE_IN_CORE, "RLock"},
    {"lock_release", "rlock_release_save", 0, PROBE_IN_CORE, "Condition on RLock"},
    {"lock_acquire_entry", "rlock_acquire_restore", 0, PROBE_IN_CORE, "Condition on RLock"},
    {"lock_restore_return", "rlock_acquire_restore", 1, PROBE_IN_CORE, "Condition on RLock"},
    {"lock_dealloc", "lock_dealloc", 0, PROBE_IN_CORE, "lock lifetime"},
    {"lock_dealloc", "rlock_dealloc", 0, PROBE_IN_CORE, "lock lifetime"},
    {"thread_spawn", "PyThread_start_new_thread", 0, PROBE_IN_CORE, "thread start"},
    {"thread_begin", "thread_run", 0, PROBE_IN_CORE, "thread start"},
    {"thread_exit", "release_sentinel", 0, PROBE_IN_CORE, "thread join"},
    {"code_dealloc", "code_dealloc", 0, PROBE_IN_CORE, "code object lifetime"},
    {"finalize", "Py_FinalizeEx", 0, PROBE_IN_CORE, "interpreter shutdown"},
    {"queue_put", "_queue_SimpleQueue_put", 0, PROBE_IN_QUEUE, "SimpleQueue"},
    {"queue_put", "_queue_SimpleQueue_put_nowait", 0, PROBE_IN_QUEUE, "SimpleQueue"},
    {"queue_get_entry", "_queue_SimpleQueue_get", 0, PROBE_IN_QUEUE, "SimpleQueue"},
    {"queue_get_return", "_queue_SimpleQueue_get", 1, PROBE_IN_QUEUE, "SimpleQueue"},
    {"queue_get_entry", "_queue_SimpleQueue_get_nowait", 0, PROBE_IN_QUEUE, "SimpleQueue"},
    {"queue_get_return", "_queue_SimpleQueue_get_nowait", 1, PROBE_IN_QUEUE, "SimpleQueue"},
};
const size_t probe_spec_count = sizeof(probe_specs) / sizeof(probe_specs[0]);

/* Struct offsets of CPython 3.11 release builds on x86-64 (the same in 3.11.0 to 3.11.x). */
static void layout_for_311(struct interp_info *in)
{
	struct pyrace_layout *l = &in->layout;
	l->runtime_tstate_current = 0x240;
	l->tstate_cframe = 0x38;
	l->cframe_current_frame = 8;
	l->frame_code = 32;
	l->frame_previous = 48;
	l->frame_prev_instr = 56;
	l->frame_owner = 69;
	l->owner_cstack = 0xff; /* 3.11 has no C-stack shim frames */
	l->code_adaptive = 184;
	l->obj_type = 8;
	l->type_flags = 168;
	l->type_name = 24;
	l->str_hash = 24;
	l->str_state = 32;
	l->str_length = 16;
	l->str_ascii_data = 48;
	l->str_utf8_length = 48;
	l->str_utf8 = 56;
	l->long_size = 16;
	l->long_digits = 24;
	l->dict_used = 16;
	l->dictview_dict = 16;
	l->weakref_object = 16;

	struct code_layout *c = &in->code;
	c->co_filename = 112;
	c->co_name = 120;
	c->co_qualname = 128;
	c->co_linetable = 136;
	c->co_firstlineno = 72;
	c->bytes_size = 16;
	c->bytes_data = 32;
	c->str_state = l->str_state;
	c->str_length = l->str_length;
	c->str_ascii_data = l->str_ascii_data;
	c->str_utf8_length = l->str_utf8_length;
	c->str_utf8 = l->str_utf8;
	c->obj_type = l->obj_type;
	c->runtime_main_interp = 0x30;
	c->interp_modules = 0x378;
	c->dict_keys = 0x20;
	c->dict_values = 0x28;
	c->keys_log2_size = 8;
	c->keys_log2_index_bytes = 9;
	c->keys_kind = 10;
	c->keys_nentries = 24;
	c->keys_indices = 32;
	c->entry_size_general = 24;
	c->entry_size_unicode = 16;
	c->module_dict = 16;
	c->type_flags = l->type_flags;
}

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

/* <prefix>/lib/pythonX.Y/lib-dynload/_queue.cpython-XY-*.so, prefix = two levels above core. */
static void find_queue_extension(struct interp_info *in)
{
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
			 "%s/lib/python%u.%u/lib-dynload/_queue.cpython-%u%u-%s.so", prefix,
			 in->major, in->minor, in->major, in->minor, arches[i]);
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
		return "debug file";
	}
}

/* Resolves one probe point; steps past endbr64, which would make every hit single-stepped. */
static int resolve_probe(const struct symbol_table *t, const struct probe_spec *spec,
			 struct probe_point *p)
{
	struct elf_symbol sym;
	p->spec = spec;
	if (symbol_table_find_function(t, spec->function, &sym))
		return -1;
	uint64_t vaddr = sym.vaddr;
	unsigned char insn[4];
	static const unsigned char endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
	if (!spec->is_return && symbol_table_read(t, vaddr, insn, 4) == 0 &&
	    memcmp(insn, endbr64, 4) == 0)
		vaddr += 4;
	if (symbol_table_vaddr_to_offset(t, vaddr, &p->file_offset))
		return -1;
	snprintf(p->symbol, sizeof(p->symbol), "%s", sym.name);
	p->vaddr = vaddr;
	p->source = source_name(sym.source);
	p->found = 1;
	return 0;
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

enum interp_status interp_inspect(const char *exe, const char *ld_library_path,
				  const char *debug_dir, struct interp_info *out, char *why,
				  size_t whylen)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->exe, sizeof(out->exe), "%s", exe);
	struct symbol_table *exe_syms = symbol_table_open(exe, debug_dir);
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
		core = symbol_table_open(out->core, debug_dir);
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
	out->major = (hex >> 24) & 0xff;
	out->minor = (hex >> 16) & 0xff;
	out->micro = (hex >> 8) & 0xff;
	snprintf(out->version, sizeof(out->version), "%u.%u.%u", out->major, out->minor,
		 out->micro);
	struct elf_symbol sym;
	if (symbol_table_find_object(core, "_Py_RefTotal", &sym) == 0) {
		snprintf(why, whylen, "%s: CPython %s debug build (Py_DEBUG) is not supported yet",
			 out->core, out->version);
		status = INTERP_UNSUPPORTED;
		goto done;
	}
	if (out->major != 3 || out->minor != 11) {
		snprintf(why, whylen, "%s: CPython %s is not supported yet (supported: 3.11)",
			 out->core, out->version);
		status = INTERP_UNSUPPORTED;
		goto done;
	}
	out->build = "release";
	out->core_is_dynamic = symbol_table_is_dynamic(core);
	layout_for_311(out);
	struct pyrace_layout *l = &out->layout;
	if (read_object_address(core, "_PyRuntime", &l->runtime_addr) ||
	    read_object_address(core, "PyDict_Type", &l->dict_type_addr) ||
	    read_object_address(core, "PyUnicode_Type", &l->str_type_addr) ||
	    read_object_address(core, "PyLong_Type", &l->int_type_addr) ||
	    read_object_address(core, "_Py_TrueStruct", &l->true_addr) ||
	    read_object_address(core, "PyCode_Type", (__u64 *)&out->code.code_type_addr)) {
		snprintf(why, whylen, "%s: exported interpreter objects are missing", out->core);
		status = INTERP_UNSUPPORTED;
		goto done;
	}
	if (symbol_table_debug_file(core))
		snprintf(out->debug_file, sizeof(out->debug_file), "%s",
			 symbol_table_debug_file(core));

	find_queue_extension(out);
	if (out->queue_ext[0])
		queue = symbol_table_open(out->queue_ext, debug_dir);

	const char *first_missing = NULL;
	size_t nmissing = 0;
	for (size_t i = 0;
	     i < probe_spec_count && out->nprobes < sizeof(out->probes) / sizeof(out->probes[0]);
	     i++) {
		const struct probe_spec *spec = &probe_specs[i];
		struct probe_point *p = &out->probes[out->nprobes++];
		const struct symbol_table *t = spec->module == PROBE_IN_CORE ? core : queue;
		if (t && resolve_probe(t, spec, p) == 0)
			continue;
		p->spec = spec;
		if (spec->module == PROBE_IN_CORE && !spec->is_return) {
			first_missing = first_missing ? first_missing : spec->function;
			nmissing++;
		}
	}
	if (nmissing) {
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

void interp_skip_reads(struct interp_info *in)
{
	for (size_t i = 0; i < in->nprobes; i++) {
		const char *cls = in->probes[i].spec->event_class;
		if (strcmp(cls, "dict reads") == 0 || strcmp(cls, "dict iteration") == 0)
			in->probes[i].found = 0;
	}
	in->no_reads = 1;
}
