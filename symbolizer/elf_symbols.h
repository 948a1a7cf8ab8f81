/* Function and data symbols of an ELF file and of its separate debug file (build-id/debuglink). */
#ifndef PYRACE_ELF_SYMBOLS_H
#define PYRACE_ELF_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

/* Where a symbol was found, weakest evidence last. */
enum symbol_source {
	SYM_FROM_DYNSYM = 1,
	SYM_FROM_SYMTAB,
	SYM_FROM_DEBUG_FILE,
};

struct elf_symbol {
	char name[128]; /* as found, e.g. insertdict.lto_priv.0 */
	uint64_t vaddr; /* link-time address */
	uint64_t size;
	enum symbol_source source;
};

struct symbol_table;

/* Opens `path` and, when `debug_dir` is not NULL, the debug file that belongs to it
 * (<debug_dir>/.build-id/xx/yyyy.debug, then .gnu_debuglink next to it, in .debug/, and under
 * debug_dir). Returns NULL with errno set when `path` is not a readable ELF file. */
struct symbol_table *symbol_table_open(const char *path, const char *debug_dir);
void symbol_table_close(struct symbol_table *t);

/* Path of the debug file that was found, or NULL. */
const char *symbol_table_debug_file(const struct symbol_table *t);
/* 1 when the file has a .symtab or a debug file was found: static functions are visible. */
int symbol_table_has_static_symbols(const struct symbol_table *t);
/* 1 when the file itself (not only its debug file) has a .symtab. */
int symbol_table_has_own_symtab(const struct symbol_table *t);
/* 1 when the ELF file is a shared object or PIE, 0 for a fixed-address executable. */
int symbol_table_is_dynamic(const struct symbol_table *t);

/* Finds a function by its source name. GCC clones `name.lto_priv.N`, `name.isra.N` and
 * `name.constprop.N` are accepted; fragments (`.part.N`, `.cold`) never. 0 when found. */
int symbol_table_find_function(const struct symbol_table *t, const char *name,
			       struct elf_symbol *out);
/* Every whole copy of function `name` at distinct addresses: the exact name and each clone
 * (3.14 has dict_dict_merge.constprop.0.isra.0 and .constprop.1.isra.0, both called). The
 * exact name comes first, then clones by address. Returns how many were found (at most max). */
size_t symbol_table_find_functions(const struct symbol_table *t, const char *name,
				   struct elf_symbol *out, size_t max);
/* The function symbol whose [value, value + size) holds `vaddr` (fragments included: an
 * address in insertdict.lto_priv.0.cold is named so). 0 when found. */
int symbol_table_function_at(const struct symbol_table *t, uint64_t vaddr, struct elf_symbol *out);
/* Address and size of section `name` (e.g. .PyRuntime). 0 when found. */
int symbol_table_section(const struct symbol_table *t, const char *name, uint64_t *vaddr,
			 uint64_t *size);
/* Finds a data object by exact name. 0 when found. */
int symbol_table_find_object(const struct symbol_table *t, const char *name,
			     struct elf_symbol *out);

/* Converts a link-time address to an offset in the file (what uprobes attach to). 0 on success. */
int symbol_table_vaddr_to_offset(const struct symbol_table *t, uint64_t vaddr, uint64_t *offset);
/* Reads initialised data at a link-time address from the file. 0 on success. */
int symbol_table_read(const struct symbol_table *t, uint64_t vaddr, void *buf, size_t len);

/* DT_NEEDED entries and the run path of the file, for finding libpython. */
size_t symbol_table_needed(const struct symbol_table *t, const char **names, size_t max);
const char *symbol_table_runpath(const struct symbol_table *t);

/* Accepts `candidate` as a name of function `name` (exact or allowed clone suffix). */
int symbol_name_matches(const char *candidate, const char *name);

#endif
