/* Where a thread-local variable of an executable lives relative to the thread pointer. */
#include "tls_offset.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

struct tls_segment {
	uint64_t vaddr, memsz, align;
	int executable; /* has PT_INTERP or is ET_EXEC: the program, not a library */
};

static int read_tls_segment(Elf *elf, struct tls_segment *out)
{
	size_t n = 0;
	GElf_Ehdr eh;
	int found = 0;
	if (elf_getphdrnum(elf, &n) || !gelf_getehdr(elf, &eh))
		return -1;
	out->executable = eh.e_type == ET_EXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_INTERP)
			out->executable = 1;
		if (ph.p_type == PT_TLS) {
			out->vaddr = ph.p_vaddr;
			out->memsz = ph.p_memsz;
			out->align = ph.p_align ? ph.p_align : 1;
			found = 1;
		}
	}
	return found ? 0 : -1;
}

/* st_value of STT_TLS symbol `name`: its offset inside the TLS segment. */
static int find_tls_symbol(Elf *elf, const char *name, uint64_t *value)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr shdr;
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_SYMTAB || !shdr.sh_entsize)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		size_t count = shdr.sh_size / shdr.sh_entsize;
		for (size_t i = 0; data && i < count; i++) {
			GElf_Sym sym;
			if (!gelf_getsym(data, (int)i, &sym) ||
			    GELF_ST_TYPE(sym.st_info) != STT_TLS || sym.st_shndx == SHN_UNDEF)
				continue;
			const char *n = elf_strptr(elf, shdr.sh_link, sym.st_name);
			if (n && strcmp(n, name) == 0) {
				*value = sym.st_value;
				return 0;
			}
		}
	}
	return -1;
}

/* Reads the TLS segment (when `seg` is not NULL) and TLS symbol `name` of one file. Returns -1
 * when the file is unreadable or has no such segment, else 0 with *has_symbol set. */
static int scan_file(const char *path, const char *name, struct tls_segment *seg, uint64_t *value,
		     int *has_symbol)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	int rc = -1;
	if (elf && elf_kind(elf) == ELF_K_ELF && (!seg || read_tls_segment(elf, seg) == 0)) {
		*has_symbol = find_tls_symbol(elf, name, value) == 0;
		rc = 0;
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}

/* The displacement of `mov %fs:disp32,%rax` (64 48 8b 04 25 disp32) among `reader`'s first
 * bytes: 0 when read, 1 when there is no such function, -1 when it holds no such instruction. */
static int reader_displacement(const struct symbol_table *t, const char *reader, int32_t *disp)
{
	struct elf_symbol s;
	unsigned char code[16];
	static const unsigned char mov_fs[5] = {0x64, 0x48, 0x8b, 0x04, 0x25};
	if (symbol_table_find_function(t, reader, &s))
		return 1;
	if (symbol_table_read(t, s.vaddr, code, sizeof(code)))
		return -1;
	for (size_t i = 0; i + 9 <= sizeof(code) && i < 8; i++) {
		if (memcmp(code + i, mov_fs, sizeof(mov_fs)) == 0) {
			memcpy(disp, code + i + 5, 4);
			return 0;
		}
	}
	return -1;
}

int tls_variable_offset(const struct symbol_table *t, const char *path, const char *name,
			const char *reader, int32_t *offset)
{
	struct tls_segment seg;
	uint64_t value = 0;
	int has = 0;
	if (scan_file(path, name, &seg, &value, &has) || !seg.executable)
		return -1; /* a library's block goes wherever the loader put it */
	const char *debug = symbol_table_debug_file(t);
	if (!has && (!debug || scan_file(debug, name, NULL, &value, &has) || !has))
		return -1;
	/* x86-64 (TLS variant II): the executable's block ends at the thread pointer, aligned
	 * so that its first byte keeps the segment's offset within its alignment */
	uint64_t firstbyte = (-seg.vaddr) & (seg.align - 1);
	uint64_t block =
	    ((seg.memsz - firstbyte + seg.align - 1) / seg.align) * seg.align + firstbyte;
	int64_t off = (int64_t)value - (int64_t)block;
	if (off >= 0 || off < INT32_MIN)
		return -1;
	int32_t disp = 0;
	int checked = reader ? reader_displacement(t, reader, &disp) : 1;
	if (checked < 0 || (checked == 0 && disp != (int32_t)off))
		return -1;
	*offset = (int32_t)off;
	return 0;
}
