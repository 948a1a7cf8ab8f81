/* Function and data symbols of an ELF file and of its separate debug file (build-id/debuglink). */
#include "elf_symbols.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct loaded_symbol {
	char *name;
	uint64_t vaddr;
	uint64_t size;
	uint8_t is_function;
	uint8_t source;
};

struct load_segment {
	uint64_t vaddr, memsz, offset, filesz;
	int executable;
};

struct symbol_table {
	int fd;
	Elf *elf;
	int dynamic;
	struct loaded_symbol *symbols;
	size_t nsymbols, capacity;
	struct load_segment segments[16];
	size_t nsegments;
	char *needed[16];
	size_t nneeded;
	char *runpath;
	char *debug_file;
	int has_static;
	int own_symtab; /* the file itself, not only its debug file, has a .symtab */
};

static int add_symbol(struct symbol_table *t, const char *name, const GElf_Sym *sym, int source)
{
	if (t->nsymbols == t->capacity) {
		size_t cap = t->capacity ? t->capacity * 2 : 4096;
		struct loaded_symbol *grown = realloc(t->symbols, cap * sizeof(*grown));
		if (!grown)
			return -1;
		t->symbols = grown;
		t->capacity = cap;
	}
	char *copy = strdup(name);
	if (!copy)
		return -1;
	t->symbols[t->nsymbols++] = (struct loaded_symbol){
	    .name = copy,
	    .vaddr = sym->st_value,
	    .size = sym->st_size,
	    .is_function = GELF_ST_TYPE(sym->st_info) == STT_FUNC,
	    .source = source,
	};
	return 0;
}

/* Loads the defined function and object symbols of one symbol section. */
static int load_symbol_section(struct symbol_table *t, Elf *elf, Elf_Scn *scn, int source)
{
	GElf_Shdr shdr;
	if (!gelf_getshdr(scn, &shdr) || shdr.sh_entsize == 0)
		return 0;
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data)
		return 0;
	size_t count = shdr.sh_size / shdr.sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_OBJECT) || sym.st_shndx == SHN_UNDEF ||
		    sym.st_value == 0)
			continue;
		const char *name = elf_strptr(elf, shdr.sh_link, sym.st_name);
		if (name && *name && add_symbol(t, name, &sym, source))
			return -1;
	}
	return 0;
}

static int load_symbols(struct symbol_table *t, Elf *elf, int debug_file)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr))
			continue;
		if (shdr.sh_type == SHT_DYNSYM && !debug_file) {
			if (load_symbol_section(t, elf, scn, SYM_FROM_DYNSYM))
				return -1;
		} else if (shdr.sh_type == SHT_SYMTAB) {
			t->has_static = 1;
			t->own_symtab |= !debug_file;
			if (load_symbol_section(t, elf, scn,
						debug_file ? SYM_FROM_DEBUG_FILE : SYM_FROM_SYMTAB))
				return -1;
		}
	}
	return 0;
}

static void load_segments_and_dynamic(struct symbol_table *t)
{
	GElf_Ehdr ehdr;
	if (gelf_getehdr(t->elf, &ehdr))
		t->dynamic = ehdr.e_type == ET_DYN;
	size_t n = 0;
	if (elf_getphdrnum(t->elf, &n))
		return;
	for (size_t i = 0; i < n && t->nsegments < 16; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(t->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		t->segments[t->nsegments++] = (struct load_segment){
		    .vaddr = ph.p_vaddr,
		    .memsz = ph.p_memsz,
		    .offset = ph.p_offset,
		    .filesz = ph.p_filesz,
		    .executable = (ph.p_flags & PF_X) != 0,
		};
	}
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(t->elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNAMIC)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		size_t count = shdr.sh_entsize ? shdr.sh_size / shdr.sh_entsize : 0;
		for (size_t i = 0; data && i < count; i++) {
			GElf_Dyn dyn;
			if (!gelf_getdyn(data, (int)i, &dyn))
				continue;
			const char *s = NULL;
			if (dyn.d_tag == DT_NEEDED || dyn.d_tag == DT_RUNPATH ||
			    dyn.d_tag == DT_RPATH)
				s = elf_strptr(t->elf, shdr.sh_link, dyn.d_un.d_val);
			if (!s)
				continue;
			if (dyn.d_tag == DT_NEEDED && t->nneeded < 16)
				t->needed[t->nneeded++] = strdup(s);
			else if (dyn.d_tag != DT_NEEDED && !t->runpath)
				t->runpath = strdup(s);
		}
	}
}

/* Returns the build-id note as lowercase hex in `hex` (at least 2*64+1 bytes). */
static int read_build_id(Elf *elf, char *hex, size_t hexlen)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nhdr;
		while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			if (nhdr.n_type != NT_GNU_BUILD_ID || nhdr.n_namesz != 4 ||
			    memcmp((char *)data->d_buf + name_off, "GNU", 4) != 0)
				continue;
			if (nhdr.n_descsz * 2 + 1 > hexlen || nhdr.n_descsz < 2)
				return -1;
			const unsigned char *id = (const unsigned char *)data->d_buf + desc_off;
			for (size_t i = 0; i < nhdr.n_descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", id[i]);
			return 0;
		}
	}
	return -1;
}

static const char *read_debuglink(Elf *elf)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr))
			continue;
		const char *name = elf_strptr(elf, shstrndx, shdr.sh_name);
		if (name && strcmp(name, ".gnu_debuglink") == 0) {
			Elf_Data *data = elf_getdata(scn, NULL);
			/* a SHT_NOBITS section has a size but no bytes (d_buf NULL) */
			if (data && data->d_buf && data->d_size > 1 &&
			    memchr(data->d_buf, 0, data->d_size))
				return data->d_buf;
		}
	}
	return NULL;
}

static int file_exists(const char *path)
{
	return access(path, R_OK) == 0;
}

static char *find_debug_file(Elf *elf, const char *path, const char *debug_dir)
{
	char candidate[PATH_MAX + 64], hex[160];
	if (read_build_id(elf, hex, sizeof(hex)) == 0) {
		snprintf(candidate, sizeof(candidate), "%s/.build-id/%.2s/%s.debug", debug_dir, hex,
			 hex + 2);
		if (file_exists(candidate))
			return strdup(candidate);
	}
	const char *link = read_debuglink(elf);
	if (!link)
		return NULL;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	const char *forms[] = {"%s/%s", "%s/.debug/%s"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(candidate, sizeof(candidate), forms[i], dir, link);
		if (strcmp(candidate, path) != 0 && file_exists(candidate))
			return strdup(candidate);
	}
	if ((size_t)snprintf(candidate, sizeof(candidate), "%s%s/%s", debug_dir, dir, link) >=
	    sizeof(candidate))
		return NULL;
	return file_exists(candidate) ? strdup(candidate) : NULL;
}

static int load_debug_file(struct symbol_table *t, const char *debug_path)
{
	int fd = open(debug_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	int rc = -1;
	if (elf && elf_kind(elf) == ELF_K_ELF)
		rc = load_symbols(t, elf, 1);
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}

struct symbol_table *symbol_table_open(const char *path, const char *debug_dir)
{
	if (elf_version(EV_CURRENT) == EV_NONE) {
		errno = ENOSYS;
		return NULL;
	}
	struct symbol_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (t->fd < 0)
		goto fail;
	t->elf = elf_begin(t->fd, ELF_C_READ, NULL);
	if (!t->elf || elf_kind(t->elf) != ELF_K_ELF) {
		errno = ENOEXEC;
		goto fail;
	}
	load_segments_and_dynamic(t);
	if (load_symbols(t, t->elf, 0))
		goto fail;
	if (debug_dir) {
		t->debug_file = find_debug_file(t->elf, path, debug_dir);
		if (t->debug_file && load_debug_file(t, t->debug_file) == 0)
			t->has_static = 1;
	}
	return t;
fail:;
	int saved = errno;
	symbol_table_close(t);
	errno = saved ? saved : ENOEXEC;
	return NULL;
}

void symbol_table_close(struct symbol_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nsymbols; i++)
		free(t->symbols[i].name);
	for (size_t i = 0; i < t->nneeded; i++)
		free(t->needed[i]);
	free(t->symbols);
	free(t->runpath);
	free(t->debug_file);
	if (t->elf)
		elf_end(t->elf);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

const char *symbol_table_debug_file(const struct symbol_table *t)
{
	return t->debug_file;
}

int symbol_table_has_static_symbols(const struct symbol_table *t)
{
	return t->has_static;
}

int symbol_table_has_own_symtab(const struct symbol_table *t)
{
	return t->own_symtab;
}

int symbol_table_is_dynamic(const struct symbol_table *t)
{
	return t->dynamic;
}

/* Suffixes GCC gives to whole copies of a function; anything else is a fragment or another. */
static int is_clone_suffix(const char *s)
{
	static const char *const kinds[] = {".lto_priv.", ".isra.", ".constprop."};
	while (*s) {
		size_t i, len = 0;
		for (i = 0; i < 3; i++) {
			len = strlen(kinds[i]);
			if (strncmp(s, kinds[i], len) == 0)
				break;
		}
		if (i == 3)
			return 0;
		s += len;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return 1;
}

int symbol_name_matches(const char *candidate, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(candidate, name, n) != 0)
		return 0;
	return candidate[n] == '\0' || is_clone_suffix(candidate + n);
}

static int find_symbol(const struct symbol_table *t, const char *name, int function,
		       struct elf_symbol *out)
{
	const struct loaded_symbol *best = NULL;
	for (size_t i = 0; i < t->nsymbols; i++) {
		const struct loaded_symbol *s = &t->symbols[i];
		if (s->is_function != function)
			continue;
		int exact = strcmp(s->name, name) == 0;
		if (!exact && (!function || !symbol_name_matches(s->name, name)))
			continue;
		/* exact names beat clones; among equals the strongest source wins */
		int better =
		    !best || (exact && strcmp(best->name, name) != 0) ||
		    ((exact == (strcmp(best->name, name) == 0)) && s->source < best->source);
		if (better)
			best = s;
	}
	if (!best)
		return -1;
	snprintf(out->name, sizeof(out->name), "%s", best->name);
	out->vaddr = best->vaddr;
	out->size = best->size;
	out->source = best->source;
	return 0;
}

int symbol_table_find_function(const struct symbol_table *t, const char *name,
			       struct elf_symbol *out)
{
	return find_symbol(t, name, 1, out);
}

static void copy_symbol(const struct loaded_symbol *s, struct elf_symbol *out)
{
	snprintf(out->name, sizeof(out->name), "%s", s->name);
	out->vaddr = s->vaddr;
	out->size = s->size;
	out->source = s->source;
}

size_t symbol_table_find_functions(const struct symbol_table *t, const char *name,
				   struct elf_symbol *out, size_t max)
{
	size_t n = 0;
	struct elf_symbol best;
	if (max == 0 || find_symbol(t, name, 1, &best))
		return 0;
	out[n++] = best;
	for (size_t i = 0; i < t->nsymbols && n < max; i++) {
		const struct loaded_symbol *s = &t->symbols[i];
		if (!s->is_function || !symbol_name_matches(s->name, name))
			continue;
		size_t j = 0;
		/* the same copy is listed in .dynsym and in the debug file's .symtab */
		while (j < n && out[j].vaddr != s->vaddr)
			j++;
		if (j < n) {
			if (s->source < out[j].source && strcmp(s->name, out[j].name) == 0)
				out[j].source = s->source;
			continue;
		}
		copy_symbol(s, &out[n]);
		/* the exact name stays first; clones follow in address order */
		size_t keep = strcmp(out[0].name, name) == 0;
		for (j = n++; j > keep && out[j - 1].vaddr > out[j].vaddr; j--) {
			struct elf_symbol tmp = out[j];
			out[j] = out[j - 1];
			out[j - 1] = tmp;
		}
	}
	return n;
}

int symbol_table_function_at(const struct symbol_table *t, uint64_t vaddr, struct elf_symbol *out)
{
	const struct loaded_symbol *best = NULL;
	for (size_t i = 0; i < t->nsymbols; i++) {
		const struct loaded_symbol *s = &t->symbols[i];
		if (!s->is_function || vaddr < s->vaddr ||
		    vaddr >= s->vaddr + (s->size ? s->size : 1))
			continue;
		if (!best || s->source < best->source)
			best = s;
	}
	if (!best)
		return -1;
	copy_symbol(best, out);
	return 0;
}

int symbol_table_section(const struct symbol_table *t, const char *name, uint64_t *vaddr,
			 uint64_t *size)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(t->elf, &shstrndx))
		return -1;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(t->elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr))
			continue;
		const char *n = elf_strptr(t->elf, shstrndx, shdr.sh_name);
		if (n && strcmp(n, name) == 0) {
			*vaddr = shdr.sh_addr;
			*size = shdr.sh_size;
			return 0;
		}
	}
	return -1;
}

int symbol_table_find_object(const struct symbol_table *t, const char *name, struct elf_symbol *out)
{
	return find_symbol(t, name, 0, out);
}

int symbol_table_vaddr_to_offset(const struct symbol_table *t, uint64_t vaddr, uint64_t *offset)
{
	for (size_t i = 0; i < t->nsegments; i++) {
		const struct load_segment *s = &t->segments[i];
		if (vaddr >= s->vaddr && vaddr < s->vaddr + s->filesz) {
			*offset = vaddr - s->vaddr + s->offset;
			return 0;
		}
	}
	return -1;
}

int symbol_table_read(const struct symbol_table *t, uint64_t vaddr, void *buf, size_t len)
{
	uint64_t off;
	if (symbol_table_vaddr_to_offset(t, vaddr, &off) ||
	    symbol_table_vaddr_to_offset(t, vaddr + len - 1, &off) ||
	    symbol_table_vaddr_to_offset(t, vaddr, &off))
		return -1;
	return pread(t->fd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -1;
}

size_t symbol_table_needed(const struct symbol_table *t, const char **names, size_t max)
{
	size_t n = 0;
	for (; n < t->nneeded && n < max; n++)
		names[n] = t->needed[n];
	return n;
}

const char *symbol_table_runpath(const struct symbol_table *t)
{
	return t->runpath;
}
