/* libFuzzer target: arbitrary bytes as the interpreter's ELF file, read by the symbol table and
 * inspected as a CPython interpreter. The file lives in a private temporary directory, next to
 * links through which it may name itself as its own debug file (.gnu_debuglink "interp.debug")
 * and as its own libpython (DT_NEEDED "libpython3.so" with run path $ORIGIN). */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "interp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[PATH_MAX], exe_path[PATH_MAX], debug_dir[PATH_MAX];
static char link_path[PATH_MAX], dot_debug[PATH_MAX], dot_debug_link[PATH_MAX];
static char libpython_link[PATH_MAX];
static struct interp_info info;

static const char *const object_names[] = {
    "_PyRuntime",  "Py_Version",     "PyDict_Type", "PyUnicode_Type",
    "PyLong_Type", "_Py_TrueStruct", "PyCode_Type", "_Py_RefTotal",
};

static void cleanup(void)
{
	unlink(libpython_link);
	unlink(dot_debug_link);
	rmdir(dot_debug);
	unlink(link_path);
	unlink(exe_path);
	rmdir(debug_dir);
	rmdir(dir);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/pyrace-fuzz-elf.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	snprintf(exe_path, sizeof(exe_path), "%s/interp", dir);
	snprintf(debug_dir, sizeof(debug_dir), "%s/debug", dir);
	snprintf(link_path, sizeof(link_path), "%s/interp.debug", dir);
	snprintf(dot_debug, sizeof(dot_debug), "%s/.debug", dir);
	snprintf(dot_debug_link, sizeof(dot_debug_link), "%s/.debug/interp.debug", dir);
	snprintf(libpython_link, sizeof(libpython_link), "%s/libpython3.so", dir);
	if (mkdir(debug_dir, 0700) || mkdir(dot_debug, 0700) || symlink("interp", link_path) ||
	    symlink("../interp", dot_debug_link) || symlink("interp", libpython_link)) {
		perror("fuzz_elf setup");
		abort();
	}
	atexit(cleanup);
}

static void store(const uint8_t *data, size_t size)
{
	int fd = open(exe_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		abort();
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	close(fd);
}

static void probe_symbol(const struct symbol_table *t, const struct elf_symbol *sym)
{
	uint8_t buf[64];
	uint64_t offset;
	size_t len = sym->size < sizeof(buf) ? (size_t)sym->size : sizeof(buf);

	if (strnlen(sym->name, sizeof(sym->name)) == sizeof(sym->name))
		abort(); /* the name must be terminated */
	symbol_table_vaddr_to_offset(t, sym->vaddr, &offset);
	symbol_table_read(t, sym->vaddr, buf, 4);
	if (len)
		symbol_table_read(t, sym->vaddr, buf, len);
}

static void exercise_table(const uint8_t *data, size_t size)
{
	struct symbol_table *t = symbol_table_open(exe_path, debug_dir);
	struct elf_symbol sym;
	const char *needed[16];
	uint8_t buf[256];
	uint64_t offset, vaddr = 0;
	size_t len = 0;

	if (!t)
		return;
	const char *debug_file = symbol_table_debug_file(t);
	if (debug_file && strlen(debug_file) >= PATH_MAX + 64)
		abort();
	symbol_table_has_static_symbols(t);
	symbol_table_is_dynamic(t);
	size_t n = symbol_table_needed(t, needed, 16);
	for (size_t i = 0; i < n; i++)
		if (needed[i])
			(void)strlen(needed[i]);
	if (symbol_table_runpath(t))
		(void)strlen(symbol_table_runpath(t));

	for (size_t i = 0; i < probe_spec_count; i++)
		if (symbol_table_find_function(t, probe_specs[i].function, &sym) == 0)
			probe_symbol(t, &sym);
	for (size_t i = 0; i < sizeof(object_names) / sizeof(object_names[0]); i++)
		if (symbol_table_find_object(t, object_names[i], &sym) == 0)
			probe_symbol(t, &sym);

	/* an address and a length taken from the input's last bytes */
	if (size >= 10) {
		memcpy(&vaddr, data + size - 10, 8);
		len = (size_t)data[size - 2] | ((size_t)(data[size - 1] & 0x7f) << 8);
		if (len > sizeof(buf))
			len = sizeof(buf);
	}
	symbol_table_vaddr_to_offset(t, vaddr, &offset);
	symbol_table_read(t, vaddr, buf, len);
	symbol_table_close(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512];

	if (!dir[0])
		setup();
	store(data, size);
	exercise_table(data, size);

	why[0] = '\0';
	enum interp_status status =
	    interp_inspect(exe_path, NULL, debug_dir, &info, why, sizeof(why));
	if (status != INTERP_OK && !why[0])
		abort(); /* every failure says why */
	if (info.nprobes > sizeof(info.probes) / sizeof(info.probes[0]))
		abort();
	return 0;
}
