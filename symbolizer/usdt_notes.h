/* SystemTap/USDT probe descriptors (.note.stapsdt) of an ELF file. */
#ifndef PYRACE_USDT_NOTES_H
#define PYRACE_USDT_NOTES_H

#include <stddef.h>
#include <stdint.h>

struct usdt_probe {
	char provider[64];
	char name[64];
	char args[128];	     /* argument spec, e.g. "8@%r14 8@%rax -4@%ebp" */
	uint64_t pc;	     /* link-time address of the probe site, prelink-adjusted */
	uint64_t semaphore;  /* link-time address of its enable counter (u16), 0 if none */
	uint64_t pc_offset;  /* file offsets: where a uprobe goes, and its ref_ctr_offset */
	uint64_t sem_offset; /* 0 when there is no semaphore */
};

/* Finds probe `provider`:`name` in the contents of a .note.stapsdt section. `base_addr` is the
 * link-time address of the .stapsdt.base section (0 when absent): each note records the base
 * it was made against, and the difference moves its pc and semaphore (prelinked files). Fills
 * every field but the file offsets. 0 when found, -1 otherwise (also for malformed notes). */
int usdt_notes_find(const uint8_t *data, size_t len, uint64_t base_addr, const char *provider,
		    const char *name, struct usdt_probe *out);

/* Opens the ELF file `path` and finds the probe, file offsets included. 0 when found; -1 when
 * the file has no such probe (or no .note.stapsdt at all), with `why` saying which. */
int usdt_find(const char *path, const char *provider, const char *name, struct usdt_probe *out,
	      char *why, size_t whylen);

#endif
