/* Checks ELF symbol lookup and interpreter inspection against what readelf, ldd and Python say. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "interp.h"

#define SYSTEM_PYTHON "/usr/bin/python3.11"
#define DEBUG_DIR     "/usr/lib/debug"

/* ---- what the tools say ------------------------------------------------------------------ */

/* Runs a shell command and returns its first output line, without the newline. */
static void first_line(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	out[0] = '\0';
	if (fgets(out, (int)len, p))
		out[strcspn(out, "\n")] = '\0';
	while (fgetc(p) != EOF)
		;
	int rc = pclose(p);
	if (rc != 0)
		fail_msg("`%s` failed (status %d)", cmd, rc);
}

struct esym {
	char name[160];
	uint64_t value, size;
	int is_func, is_object, defined;
};

struct esyms {
	struct esym *v;
	size_t n, cap;
};

/* Appends every symbol `readelf -sW` prints for `file` (.dynsym and .symtab). */
static void readelf_symbols(const char *file, struct esyms *out)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "readelf -sW '%s'", file);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[1024];
	while (fgets(line, sizeof(line), p)) {
		char num[32], value[32], size[32], type[32], bind[32], vis[32], ndx[32], name[512];
		if (sscanf(line, "%31s %31s %31s %31s %31s %31s %31s %511s", num, value, size, type,
			   bind, vis, ndx, name) != 8 ||
		    num[strlen(num) - 1] != ':' || strlen(name) >= sizeof(out->v->name))
			continue;
		if (out->n == out->cap) {
			out->cap = out->cap ? out->cap * 2 : 4096;
			out->v = realloc(out->v, out->cap * sizeof(*out->v));
			assert_non_null(out->v);
		}
		struct esym *s = &out->v[out->n++];
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->value = strtoull(value, NULL, 16);
		s->size = strtoull(size, NULL, 0);
		s->is_func = strcmp(type, "FUNC") == 0;
		s->is_object = strcmp(type, "OBJECT") == 0;
		s->defined = strcmp(ndx, "UND") != 0;
	}
	assert_int_equal(pclose(p), 0);
	assert_true(out->n > 0);
}

/* A defined function or object symbol named exactly `name`, NULL when readelf shows none. */
static const struct esym *esym_find(const struct esyms *s, const char *name, int func)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct esym *e = &s->v[i];
		if (e->defined && e->value && (func ? e->is_func : e->is_object) &&
		    strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

struct segment {
	uint64_t offset, vaddr, filesz, memsz;
};

struct segments {
	struct segment s[16];
	size_t n;
};

/* PT_LOAD entries from `readelf -lW`. */
static void readelf_segments(const char *file, struct segments *out)
{
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "readelf -lW '%s' 2>/dev/null", file);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[512];
	out->n = 0;
	while (fgets(line, sizeof(line), p)) {
		char kind[32], off[32], vaddr[32], paddr[32], filesz[32], memsz[32];
		if (sscanf(line, "%31s %31s %31s %31s %31s %31s", kind, off, vaddr, paddr, filesz,
			   memsz) != 6 ||
		    strcmp(kind, "LOAD") != 0 || out->n == 16)
			continue;
		out->s[out->n++] =
		    (struct segment){strtoull(off, NULL, 16), strtoull(vaddr, NULL, 16),
				     strtoull(filesz, NULL, 16), strtoull(memsz, NULL, 16)};
	}
	assert_int_equal(pclose(p), 0);
	assert_true(out->n > 0);
}

/* File offset of a link-time address per the PT_LOAD table; -1 when not in the file. */
static int64_t segment_offset(const struct segments *segs, uint64_t vaddr)
{
	for (size_t i = 0; i < segs->n; i++) {
		const struct segment *s = &segs->s[i];
		if (vaddr >= s->vaddr && vaddr < s->vaddr + s->filesz)
			return (int64_t)(vaddr - s->vaddr + s->offset);
	}
	return -1;
}

/* <debug_dir>/.build-id/xx/yyyy.debug of a file, from `readelf -n`. */
static void build_id_path(const char *file, char *out, size_t len)
{
	char cmd[PATH_MAX + 96], id[256];
	snprintf(cmd, sizeof(cmd), "readelf -n '%s' | sed -n 's/.*Build ID: *//p'", file);
	first_line(cmd, id, sizeof(id));
	assert_true(strlen(id) > 2);
	snprintf(out, len, DEBUG_DIR "/.build-id/%.2s/%s.debug", id, id + 2);
}

static int readelf_has_section(const char *file, const char *section)
{
	char cmd[PATH_MAX + 128], out[64];
	snprintf(cmd, sizeof(cmd), "readelf -SW '%s' | grep -c ' %s ' || true", file, section);
	first_line(cmd, out, sizeof(out));
	return atoi(out) > 0;
}

/* `python -c 'import sys; print(sys.version)'`, first word. */
static void python_version(const char *python, char *out, size_t len)
{
	char cmd[PATH_MAX + 96], line[256];
	snprintf(cmd, sizeof(cmd), "'%s' -c 'import sys; print(sys.version)'", python);
	first_line(cmd, line, sizeof(line));
	line[strcspn(line, " ")] = '\0';
	snprintf(out, len, "%s", line);
}

/* The interpreter `python3` runs (pyenv's when its shims are on PATH). */
static void pyenv_python(char *out, size_t len)
{
	first_line("python3 -c 'import sys; print(sys.executable)'", out, len);
	assert_true(out[0] == '/');
}

/* The libpython the dynamic loader picks for `exe`, "" when it links none. */
static void loaded_libpython(const char *exe, char *out, size_t len)
{
	char cmd[PATH_MAX + 96];
	snprintf(cmd, sizeof(cmd), "ldd '%s' | sed -n 's/.*libpython.* => \\([^ ]*\\) .*/\\1/p'",
		 exe);
	first_line(cmd, out, len);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* ---- symbol names ------------------------------------------------------------------------ */

static void test_symbol_name_matches(void **state)
{
	(void)state;
	static const char *const accepted[] = {
	    "x",
	    "x.lto_priv.0",
	    "x.isra.3",
	    "x.constprop.0.isra.0",
	    "x.isra.12",
	    "x.lto_priv.0.isra.1",
	    "x.constprop.42",
	    "x.constprop.1.isra.0",
	    "x.constprop.0.isra.0.lto_priv.3",
	};
	static const char *const rejected[] = {"x.part.0",
					       "x.cold",
					       "x.lto_priv.0.cold",
					       "xy",
					       "x.",
					       "x.lto_priv.",
					       "x.isra",
					       "x.isra.a",
					       "x.isra.0.part.1",
					       "x.part.0.lto_priv.0",
					       "x.constprop.0.isra.0.cold",
					       "x.constprop.0.part.1.isra.0",
					       "x.cold.constprop.0",
					       "x.isra.0.",
					       "x.constprop.0x",
					       "y",
					       "",
					       "X",
					       "x.lto_priv.0 ",
					       "xx.isra.0",
					       "x.lto_priv0",
					       ".x"};
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		if (!symbol_name_matches(accepted[i], "x"))
			fail_msg("\"%s\" not accepted for x", accepted[i]);
	for (size_t i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++)
		if (symbol_name_matches(rejected[i], "x"))
			fail_msg("\"%s\" accepted for x", rejected[i]);
	assert_true(symbol_name_matches("insertdict.lto_priv.0", "insertdict"));
	assert_false(symbol_name_matches("insertdict.lto_priv.0.cold", "insertdict"));
	assert_false(symbol_name_matches("insert", "insertdict"));
	assert_false(symbol_name_matches("insertdict", "insert"));
}

/* ---- symbol tables ----------------------------------------------------------------------- */

static void test_system_python_with_debug_file(void **state)
{
	(void)state;
	char debug[PATH_MAX];
	build_id_path(SYSTEM_PYTHON, debug, sizeof(debug));
	if (access(debug, R_OK) != 0)
		fail_msg("%s is missing: install python3.11-dbg", debug);
	struct esyms dbg = {0}, exe = {0};
	readelf_symbols(debug, &dbg);
	readelf_symbols(SYSTEM_PYTHON, &exe);
	struct segments segs;
	readelf_segments(SYSTEM_PYTHON, &segs);

	struct symbol_table *t = symbol_table_open(SYSTEM_PYTHON, DEBUG_DIR);
	assert_non_null(t);
	assert_string_equal(symbol_table_debug_file(t), debug);
	assert_true(symbol_table_has_static_symbols(t));
	assert_false(symbol_table_is_dynamic(t)); /* ET_EXEC */

	/* insertdict is a static function known only as its LTO clone, next to a .cold fragment */
	const struct esym *clone = esym_find(&dbg, "insertdict.lto_priv.0", 1);
	assert_non_null(clone);
	assert_null(esym_find(&dbg, "insertdict", 1));
	assert_non_null(esym_find(&dbg, "insertdict.lto_priv.0.cold", 1));
	assert_null(esym_find(&exe, "insertdict.lto_priv.0", 1));
	struct elf_symbol s;
	assert_int_equal(symbol_table_find_function(t, "insertdict", &s), 0);
	assert_string_equal(s.name, "insertdict.lto_priv.0");
	assert_int_equal(s.vaddr, clone->value);
	assert_int_equal(s.size, clone->size);
	assert_int_equal(s.source, SYM_FROM_DEBUG_FILE);

	uint64_t off = 0;
	assert_int_equal(symbol_table_vaddr_to_offset(t, s.vaddr, &off), 0);
	assert_int_equal((int64_t)off, segment_offset(&segs, s.vaddr));
	/* outside every segment, and in .bss (in memory, not in the file) */
	assert_int_not_equal(symbol_table_vaddr_to_offset(t, 0, &off), 0);
	for (size_t i = 0; i < segs.n; i++) {
		const struct segment *g = &segs.s[i];
		assert_int_equal(symbol_table_vaddr_to_offset(t, g->vaddr, &off), 0);
		assert_int_equal(off, g->offset);
		assert_int_equal(symbol_table_vaddr_to_offset(t, g->vaddr + g->filesz - 1, &off),
				 0);
		assert_int_equal(off, g->offset + g->filesz - 1);
		if (g->memsz > g->filesz && segment_offset(&segs, g->vaddr + g->filesz) < 0)
			assert_int_not_equal(
			    symbol_table_vaddr_to_offset(t, g->vaddr + g->filesz, &off), 0);
	}

	/* an exported function: found in .dynsym, the strongest source, same address */
	const struct esym *setitem = esym_find(&exe, "PyDict_SetItem", 1);
	assert_non_null(setitem);
	assert_int_equal(symbol_table_find_function(t, "PyDict_SetItem", &s), 0);
	assert_string_equal(s.name, "PyDict_SetItem");
	assert_int_equal(s.vaddr, setitem->value);
	assert_int_equal(s.source, SYM_FROM_DYNSYM);

	/* objects and functions are looked up separately */
	const struct esym *runtime = esym_find(&exe, "_PyRuntime", 0);
	assert_non_null(runtime);
	assert_int_equal(symbol_table_find_object(t, "_PyRuntime", &s), 0);
	assert_int_equal(s.vaddr, runtime->value);
	assert_int_equal(s.size, runtime->size);
	assert_int_not_equal(symbol_table_find_function(t, "_PyRuntime", &s), 0);
	assert_int_not_equal(symbol_table_find_object(t, "PyDict_SetItem", &s), 0);
	assert_int_not_equal(symbol_table_find_function(t, "no_such_function_here", &s), 0);

	/* initialised data read from the file: Py_Version is sys.hexversion */
	char hex[64];
	first_line(SYSTEM_PYTHON " -c 'import sys; print(sys.hexversion)'", hex, sizeof(hex));
	assert_int_equal(symbol_table_find_object(t, "Py_Version", &s), 0);
	uint32_t version = 0;
	assert_int_equal(symbol_table_read(t, s.vaddr, &version, sizeof(version)), 0);
	assert_int_equal(version, strtoul(hex, NULL, 10));
	assert_int_not_equal(symbol_table_read(t, 0, &version, sizeof(version)), 0);

	symbol_table_close(t);
	free(dbg.v);
	free(exe.v);
}

static void test_system_python_without_debug_dir(void **state)
{
	(void)state;
	struct esyms exe = {0};
	readelf_symbols(SYSTEM_PYTHON, &exe);
	assert_false(readelf_has_section(SYSTEM_PYTHON, ".symtab"));
	struct symbol_table *t = symbol_table_open(SYSTEM_PYTHON, NULL);
	assert_non_null(t);
	assert_null(symbol_table_debug_file(t));
	assert_false(symbol_table_has_static_symbols(t));
	struct elf_symbol s;
	assert_int_not_equal(symbol_table_find_function(t, "insertdict", &s), 0);
	const struct esym *setitem = esym_find(&exe, "PyDict_SetItem", 1);
	assert_non_null(setitem);
	assert_int_equal(symbol_table_find_function(t, "PyDict_SetItem", &s), 0);
	assert_string_equal(s.name, "PyDict_SetItem");
	assert_int_equal(s.vaddr, setitem->value);
	assert_int_equal(s.size, setitem->size);
	assert_int_equal(s.source, SYM_FROM_DYNSYM);
	symbol_table_close(t);
	free(exe.v);
}

/* A debug dir without this build's file: the debuglink search finds nothing either. */
static void test_system_python_wrong_debug_dir(void **state)
{
	(void)state;
	struct symbol_table *t = symbol_table_open(SYSTEM_PYTHON, "/nonexistent");
	assert_non_null(t);
	assert_null(symbol_table_debug_file(t));
	assert_false(symbol_table_has_static_symbols(t));
	struct elf_symbol s;
	assert_int_not_equal(symbol_table_find_function(t, "insertdict", &s), 0);
	assert_int_equal(symbol_table_find_function(t, "PyDict_SetItem", &s), 0);
	symbol_table_close(t);
}

/* pyenv's libpython carries its own .symtab: static functions come from there. */
static void test_libpython_symtab(void **state)
{
	(void)state;
	char exe[PATH_MAX], lib[PATH_MAX], cmd[PATH_MAX + 96];
	pyenv_python(exe, sizeof(exe));
	loaded_libpython(exe, lib, sizeof(lib));
	if (lib[0] == '\0') {
		print_message("%s links no libpython (no pyenv build here): skipped\n", exe);
		skip();
	}
	assert_true(lib[0] == '/');
	assert_true(readelf_has_section(lib, ".symtab"));
	struct esyms syms = {0};
	readelf_symbols(lib, &syms);
	struct segments segs;
	readelf_segments(lib, &segs);

	struct symbol_table *t = symbol_table_open(lib, NULL);
	assert_non_null(t);
	assert_true(symbol_table_is_dynamic(t)); /* ET_DYN */
	assert_true(symbol_table_has_static_symbols(t));
	const struct esym *insertdict = esym_find(&syms, "insertdict", 1);
	assert_non_null(insertdict);
	struct elf_symbol s;
	assert_int_equal(symbol_table_find_function(t, "insertdict", &s), 0);
	assert_string_equal(s.name, "insertdict");
	assert_int_equal(s.vaddr, insertdict->value);
	assert_int_equal(s.source, SYM_FROM_SYMTAB);
	uint64_t off;
	assert_int_equal(symbol_table_vaddr_to_offset(t, s.vaddr, &off), 0);
	assert_int_equal((int64_t)off, segment_offset(&segs, s.vaddr));
	symbol_table_close(t);

	/* the executable: NEEDED and RUNPATH as readelf shows them */
	t = symbol_table_open(exe, NULL);
	assert_non_null(t);
	const char *needed[16];
	size_t n = symbol_table_needed(t, needed, 16);
	snprintf(cmd, sizeof(cmd),
		 "readelf -dW '%s' | sed -n 's/.*(NEEDED).*\\[\\(.*\\)\\]/\\1/p' | tr '\\n' ' '",
		 exe);
	char expect[1024], got[1024] = "";
	first_line(cmd, expect, sizeof(expect));
	for (size_t i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s ", needed[i]);
	assert_string_equal(got, expect);
	assert_true(n >= 1);
	assert_int_equal(symbol_table_needed(t, needed, 1), 1);
	snprintf(cmd, sizeof(cmd),
		 "readelf -dW '%s' | sed -n 's/.*(R.*PATH).*\\[\\(.*\\)\\]/\\1/p'", exe);
	first_line(cmd, expect, sizeof(expect));
	assert_true(expect[0] != '\0');
	assert_non_null(symbol_table_runpath(t));
	assert_string_equal(symbol_table_runpath(t), expect);
	symbol_table_close(t);
	free(syms.v);
}

static void test_symbol_table_open_errors(void **state)
{
	(void)state;
	char path[] = "/tmp/pyrace-symbols-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "#!/bin/sh\necho not an ELF file\n");
	errno = 0;
	assert_null(symbol_table_open(path, DEBUG_DIR));
	assert_int_equal(errno, ENOEXEC);
	write_file(path, "");
	errno = 0;
	assert_null(symbol_table_open(path, NULL));
	assert_int_equal(errno, ENOEXEC);
	unlink(path);
	errno = 0;
	assert_null(symbol_table_open(path, NULL));
	assert_int_equal(errno, ENOENT);
	symbol_table_close(NULL);
}

/* ---- interpreter inspection -------------------------------------------------------------- */

/* Checks every probe point against readelf: the symbol, its address (past endbr64 for entry
 * probes) and file offset, in the core or the _queue module. */
static void check_probes(const struct interp_info *in, const char *core_debug, int require_all)
{
	struct esyms core = {0}, queue = {0};
	readelf_symbols(in->core, &core);
	if (core_debug)
		readelf_symbols(core_debug, &core);
	struct segments core_segs, queue_segs = {0};
	readelf_segments(in->core, &core_segs);
	if (in->queue_ext[0]) {
		char qdebug[PATH_MAX];
		readelf_symbols(in->queue_ext, &queue);
		build_id_path(in->queue_ext, qdebug, sizeof(qdebug));
		if (access(qdebug, R_OK) == 0)
			readelf_symbols(qdebug, &queue);
		readelf_segments(in->queue_ext, &queue_segs);
	}
	assert_int_equal(in->nprobes, probe_spec_count);
	for (size_t i = 0; i < in->nprobes; i++) {
		const struct probe_point *p = &in->probes[i];
		const struct probe_spec *spec = &probe_specs[i];
		assert_ptr_equal(p->spec, spec);
		int in_core = spec->module == PROBE_IN_CORE;
		if (!p->found) {
			if ((require_all || in_core) && !probe_spec_optional(spec))
				fail_msg("probe %s on %s not found", spec->program, spec->function);
			continue;
		}
		if (!symbol_name_matches(p->symbol, spec->function))
			fail_msg("probe on %s got symbol %s", spec->function, p->symbol);
		const struct esyms *syms = in_core ? &core : &queue;
		const struct segments *segs = in_core ? &core_segs : &queue_segs;
		const char *file = in_core ? in->core : in->queue_ext;
		const struct esym *e = esym_find(syms, p->symbol, 1);
		if (!e)
			fail_msg("readelf does not show %s in %s", p->symbol, file);
		/* an exact name is preferred to a clone */
		if (strcmp(p->symbol, spec->function) != 0)
			assert_null(esym_find(syms, spec->function, 1));
		int64_t off = segment_offset(segs, e->value);
		assert_true(off >= 0);
		uint8_t insn[4];
		int fd = open(file, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, insn, 4, off), 4);
		close(fd);
		static const uint8_t endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
		uint64_t expect = e->value;
		if (!spec->is_return && memcmp(insn, endbr64, 4) == 0)
			expect += 4;
		if (p->vaddr != expect)
			fail_msg("probe %s: vaddr 0x%llx, readelf says 0x%llx", p->symbol,
				 (unsigned long long)p->vaddr, (unsigned long long)expect);
		assert_int_equal((int64_t)p->file_offset, segment_offset(segs, expect));
		assert_non_null(p->source);
	}
	free(core.v);
	free(queue.v);
}

/* The _queue extension module as the interpreter itself loads it. */
static void queue_module_of(const char *python, char *out, size_t len)
{
	char cmd[PATH_MAX + 96];
	snprintf(cmd, sizeof(cmd), "'%s' -c 'import _queue; print(_queue.__file__)'", python);
	first_line(cmd, out, len);
}

static void check_layout_addresses(const struct interp_info *in)
{
	struct esyms syms = {0};
	readelf_symbols(in->core, &syms);
	const char *names[] = {"_PyRuntime", "PyDict_Type", "PyUnicode_Type", "PyLong_Type",
			       "_Py_TrueStruct"};
	const uint64_t got[] = {in->layout.runtime_addr, in->layout.dict_type_addr,
				in->layout.str_type_addr, in->layout.int_type_addr,
				in->layout.true_addr};
	for (size_t i = 0; i < 5; i++) {
		const struct esym *e = esym_find(&syms, names[i], 0);
		assert_non_null(e);
		if (got[i] != e->value)
			fail_msg("%s: 0x%llx, readelf says 0x%llx", names[i],
				 (unsigned long long)got[i], (unsigned long long)e->value);
	}
	free(syms.v);
}

static void check_version(const struct interp_info *in, const char *python)
{
	char expect[64];
	python_version(python, expect, sizeof(expect));
	assert_string_equal(in->version, expect);
	char parts[64];
	snprintf(parts, sizeof(parts), "%u.%u.%u", in->major, in->minor, in->micro);
	assert_string_equal(parts, expect);
	assert_int_equal(in->major, 3);
	assert_int_equal(in->minor, 11);
}

static void test_interp_system_python(void **state)
{
	(void)state;
	static struct interp_info in;
	char why[512] = "";
	enum interp_status st =
	    interp_inspect(SYSTEM_PYTHON, NULL, DEBUG_DIR, &in, why, sizeof(why));
	if (st != INTERP_OK)
		fail_msg("status %d: %s", st, why);
	assert_string_equal(in.exe, SYSTEM_PYTHON);
	assert_string_equal(in.core, SYSTEM_PYTHON); /* statically linked interpreter */
	char debug[PATH_MAX], queue[PATH_MAX];
	build_id_path(SYSTEM_PYTHON, debug, sizeof(debug));
	assert_string_equal(in.debug_file, debug);
	queue_module_of(SYSTEM_PYTHON, queue, sizeof(queue));
	assert_string_equal(in.queue_ext, queue);
	assert_non_null(in.build);
	assert_string_equal(in.build, "release");
	check_version(&in, SYSTEM_PYTHON);
	check_layout_addresses(&in);
	check_probes(&in, debug, 1);
}

/* pyenv's build links libpython3.11.so, which carries the interpreter and its .symtab. */
static void test_interp_pyenv_python(void **state)
{
	(void)state;
	static struct interp_info in;
	char exe[PATH_MAX], lib[PATH_MAX], why[512] = "";
	pyenv_python(exe, sizeof(exe));
	enum interp_status st = interp_inspect(exe, NULL, DEBUG_DIR, &in, why, sizeof(why));
	if (st != INTERP_OK)
		fail_msg("%s: status %d: %s", exe, st, why);
	assert_string_equal(in.exe, exe);
	/* the core is the libpython the dynamic loader picks, or the executable itself */
	loaded_libpython(exe, lib, sizeof(lib));
	if (lib[0]) {
		char real_core[PATH_MAX], real_lib[PATH_MAX];
		assert_non_null(realpath(in.core, real_core));
		assert_non_null(realpath(lib, real_lib));
		assert_string_equal(real_core, real_lib);
		assert_non_null(strstr(in.core, "libpython3.11.so"));
	} else {
		print_message("%s links no libpython (no pyenv build here)\n", exe);
		assert_string_equal(in.core, exe);
	}
	char queue[PATH_MAX], real_queue[PATH_MAX], real_ext[PATH_MAX];
	queue_module_of(exe, queue, sizeof(queue));
	assert_non_null(realpath(queue, real_queue));
	assert_non_null(realpath(in.queue_ext, real_ext));
	assert_string_equal(real_ext, real_queue);
	check_version(&in, exe);
	check_layout_addresses(&in);
	check_probes(&in, in.debug_file[0] ? in.debug_file : NULL, 1);
}

static void test_interp_not_python(void **state)
{
	(void)state;
	static struct interp_info in;
	char why[512] = "";
	assert_int_equal(interp_inspect("/bin/true", NULL, DEBUG_DIR, &in, why, sizeof(why)),
			 INTERP_NOT_PYTHON);
	assert_non_null(strstr(why, "/bin/true"));
	assert_non_null(strstr(why, "not a CPython interpreter"));
}

static void test_interp_no_debug_info(void **state)
{
	(void)state;
	static struct interp_info in;
	char why[512] = "";
	assert_int_equal(interp_inspect(SYSTEM_PYTHON, NULL, "/nonexistent", &in, why, sizeof(why)),
			 INTERP_NO_DEBUG_INFO);
	assert_non_null(strstr(why, "python3.11-dbg"));
	assert_non_null(strstr(why, "insertdict"));
	assert_non_null(strstr(why, SYSTEM_PYTHON));
	assert_null(strchr(why, '\n'));
	check_version(&in, SYSTEM_PYTHON);
	assert_string_equal(in.debug_file, "");
	/* exported functions are still found; the message counts the static ones missing */
	size_t missing = 0;
	for (size_t i = 0; i < in.nprobes; i++) {
		const struct probe_point *p = &in.probes[i];
		if (p->spec->module != PROBE_IN_CORE)
			continue;
		if (strcmp(p->spec->function, "PyDict_Clear") == 0)
			assert_true(p->found);
		missing += !p->found && !p->spec->is_return && !probe_spec_optional(p->spec);
	}
	char count[64];
	snprintf(count, sizeof(count), ": %zu internal functions", missing);
	assert_true(missing > 1);
	assert_non_null(strstr(why, count));
}

static void test_interp_not_elf(void **state)
{
	(void)state;
	static struct interp_info in;
	char path[] = "/tmp/pyrace-interp-XXXXXX", why[512] = "";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "#!/bin/sh\nexec python3 \"$@\"\n");
	assert_int_equal(interp_inspect(path, NULL, DEBUG_DIR, &in, why, sizeof(why)),
			 INTERP_NOT_ELF);
	assert_non_null(strstr(why, path));
	assert_non_null(strstr(why, "not an ELF"));
	unlink(path);
}

/* The doctor's full inspection adds DWARF facts but resolves 3.11 exactly as pyrace run does. */
static void test_interp_all_same_probes(void **state)
{
	(void)state;
	static struct interp_info quick, all;
	char why[512] = "", why_all[512] = "";
	assert_int_equal(interp_inspect(SYSTEM_PYTHON, NULL, DEBUG_DIR, &quick, why, sizeof(why)),
			 INTERP_OK);
	assert_int_equal(
	    interp_inspect_all(SYSTEM_PYTHON, NULL, DEBUG_DIR, &all, why_all, sizeof(why_all)),
	    INTERP_OK);
	assert_memory_equal(&quick.layout, &all.layout, sizeof(quick.layout));
	assert_memory_equal(&quick.code, &all.code, sizeof(quick.code));
	assert_int_equal(quick.nprobes, all.nprobes);
	for (size_t i = 0; i < quick.nprobes; i++) {
		const struct probe_point *q = &quick.probes[i], *a = &all.probes[i];
		assert_ptr_equal(q->spec, a->spec);
		assert_string_equal(q->symbol, a->symbol);
		assert_int_equal(q->vaddr, a->vaddr);
		assert_int_equal(q->file_offset, a->file_offset);
		assert_int_equal(q->nargs, 0);
	}
	/* what the 3.11 BPF programs read: insertdict's dict in rdi, the lock in rdi */
	assert_string_equal(all.probes[0].spec->function, "insertdict");
	assert_string_equal(all.probes[0].args[0].name, "mp");
	assert_string_equal(all.probes[0].args[0].where, "rdi");
	assert_string_equal(all.build, "release");
	assert_false(all.has_debug_offsets);
	assert_true(all.dwarf_units_walked > 0);
}

/* Debian's debug interpreter (python3.11-dbg) is a Py_DEBUG build: recognised, refused. */
static void test_interp_debug_build(void **state)
{
	(void)state;
	static struct interp_info in;
	char why[512] = "";
	const char *dbg = "/usr/bin/python3.11d";
	if (access(dbg, X_OK) != 0)
		fail_msg("%s is missing: install python3.11-dbg", dbg);
	assert_int_equal(interp_inspect(dbg, NULL, DEBUG_DIR, &in, why, sizeof(why)),
			 INTERP_UNSUPPORTED);
	assert_non_null(strstr(why, "debug build"));
	check_version(&in, dbg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_symbol_name_matches),
	    cmocka_unit_test(test_system_python_with_debug_file),
	    cmocka_unit_test(test_system_python_without_debug_dir),
	    cmocka_unit_test(test_system_python_wrong_debug_dir),
	    cmocka_unit_test(test_libpython_symtab),
	    cmocka_unit_test(test_symbol_table_open_errors),
	    cmocka_unit_test(test_interp_system_python),
	    cmocka_unit_test(test_interp_pyenv_python),
	    cmocka_unit_test(test_interp_not_python),
	    cmocka_unit_test(test_interp_no_debug_info),
	    cmocka_unit_test(test_interp_not_elf),
	    cmocka_unit_test(test_interp_all_same_probes),
	    cmocka_unit_test(test_interp_debug_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
