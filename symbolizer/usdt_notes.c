/* SystemTap/USDT probe descriptors (.note.stapsdt) of an ELF file. */
#include "usdt_notes.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NT_STAPSDT 3

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* The NUL-terminated string at *pos within desc[0, end), copied into out; advances *pos. */
static int take_string(const uint8_t *desc, size_t end, size_t *pos, char *out, size_t outlen)
{
	const uint8_t *nul = memchr(desc + *pos, '\0', end - *pos);
	if (!nul)
		return -1;
	size_t n = (size_t)(nul - (desc + *pos));
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, desc + *pos, n);
	out[n] = '\0';
	*pos = (size_t)(nul - desc) + 1;
	return 0;
}

static uint64_t take_u64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

int usdt_notes_find(const uint8_t *data, size_t len, uint64_t base_addr, const char *provider,
		    const char *name, struct usdt_probe *out)
{
	size_t pos = 0;
	while (len - pos >= 12) {
		uint32_t namesz, descsz, type;
		memcpy(&namesz, data + pos, 4);
		memcpy(&descsz, data + pos + 4, 4);
		memcpy(&type, data + pos + 8, 4);
		size_t name_at = pos + 12;
		if (namesz > len - name_at || align4(namesz) > len - name_at)
			return -1;
		size_t desc_at = name_at + align4(namesz);
		if (descsz > len - desc_at)
			return -1;
		size_t next = desc_at + align4(descsz);
		if (next > len)
			next = len;
		pos = next;
		if (type != NT_STAPSDT || namesz != 8 || memcmp(data + name_at, "stapsdt", 8) != 0)
			continue;
		/* pc, base and semaphore (ELF64 words), then provider, name and arguments */
		const uint8_t *desc = data + desc_at;
		if (descsz < 24)
			continue;
		struct usdt_probe p;
		memset(&p, 0, sizeof(p));
		size_t at = 24;
		if (take_string(desc, descsz, &at, p.provider, sizeof(p.provider)) ||
		    take_string(desc, descsz, &at, p.name, sizeof(p.name)))
			continue;
		if (at < descsz)
			take_string(desc, descsz, &at, p.args, sizeof(p.args));
		if (strcmp(p.provider, provider) != 0 || strcmp(p.name, name) != 0)
			continue;
		uint64_t note_base = take_u64(desc + 8);
		/* a note made against another base (prelink moved the file): shift by the
		 * difference, as the address of .stapsdt.base says where the base is now */
		uint64_t shift = base_addr && note_base ? base_addr - note_base : 0;
		p.pc = take_u64(desc) + shift;
		p.semaphore = take_u64(desc + 16);
		if (p.semaphore)
			p.semaphore += shift;
		*out = p;
		return 0;
	}
	return -1;
}

/* File offset of a link-time address inside the file-backed part of a PT_LOAD segment. */
static int vaddr_to_offset(Elf *elf, uint64_t vaddr, uint64_t *offset)
{
	size_t n;
	if (elf_getphdrnum(elf, &n))
		return -1;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr < ph.p_vaddr + ph.p_filesz) {
			*offset = vaddr - ph.p_vaddr + ph.p_offset;
			return 0;
		}
	}
	return -1;
}

/* Finds section `name`; its header in *shdr. */
static Elf_Scn *find_section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	for (Elf_Scn *scn = elf_nextscn(elf, NULL); scn; scn = elf_nextscn(elf, scn)) {
		if (!gelf_getshdr(scn, shdr))
			continue;
		const char *n = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (n && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}

int usdt_find(const char *path, const char *provider, const char *name, struct usdt_probe *out,
	      char *why, size_t whylen)
{
	int rc = -1;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(why, whylen, "libelf is unusable");
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	if (!elf || !gelf_getehdr(elf, &eh) || eh.e_ident[EI_CLASS] != ELFCLASS64) {
		snprintf(why, whylen, "%s is not a 64-bit ELF file", path);
		goto out;
	}
	GElf_Shdr shdr, base_shdr;
	Elf_Scn *notes = find_section(elf, ".note.stapsdt", &shdr);
	Elf_Data *data = notes ? elf_getdata(notes, NULL) : NULL;
	if (!data || !data->d_buf || shdr.sh_type != SHT_NOTE) {
		snprintf(why, whylen, "%s has no USDT probes (built without --with-dtrace)", path);
		goto out;
	}
	uint64_t base = find_section(elf, ".stapsdt.base", &base_shdr) ? base_shdr.sh_addr : 0;
	if (usdt_notes_find(data->d_buf, data->d_size, base, provider, name, out)) {
		snprintf(why, whylen, "%s has no USDT probe %s:%s", path, provider, name);
		goto out;
	}
	out->sem_offset = 0;
	if (vaddr_to_offset(elf, out->pc, &out->pc_offset) ||
	    (out->semaphore && vaddr_to_offset(elf, out->semaphore, &out->sem_offset))) {
		snprintf(why, whylen, "%s: USDT probe %s:%s lies outside the loaded file", path,
			 provider, name);
		goto out;
	}
	rc = 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return rc;
}
