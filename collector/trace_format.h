/* The trace file: a versioned header, then self-describing records that readers may skip.
 *
 * Format 2 (written since issue #5): a record is its type (one byte, never 0), its payload length
 * (LEB128, at most 4 bytes) and the payload. Events are TREC_EV records of a dozen bytes that
 * refer to threads, keys and stacks by small ids, each defined by a TREC_THREAD, TREC_KEY or
 * TREC_STACK record written before the first event that uses it. Ids are reused: a definition
 * replaces the earlier one of the same id, so reader and writer keep bounded tables. A trace cut
 * anywhere stays readable up to its last complete record, as every definition precedes its use.
 *
 * Format 1 (8-byte record headers, every event a whole TREC_EVENT) is still read. */
#ifndef PYRACE_TRACE_FORMAT_H
#define PYRACE_TRACE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "PYRACE" + format version byte + newline; the byte-order mark follows in native order. */
#define TRACE_MAGIC	"PYRACE\002\n"
#define TRACE_MAGIC_LEN 8
#define TRACE_VERSION	2
/* the first format, still readable: 8-byte record headers, whole events */
#define TRACE_VERSION_1	 1
#define TRACE_BYTE_ORDER 0x01020304u
#define TRACE_MAX_RECORD (16u << 20)

struct trace_file_header {
	char magic[TRACE_MAGIC_LEN];
	uint32_t version;
	uint32_t byte_order;
};

/* Record header of format 1 (format 2: a type byte and a LEB128 length). */
struct trace_record_header {
	uint32_t type;
	uint32_t len; /* payload bytes that follow */
};

/* Record types of format 2 are below 256. */
#define TRACE_MAX_RECORD_TYPE 255

enum trace_record_type {
	TREC_TARGET = 1, /* who was traced: pid, interpreter, argv */
	TREC_EVENT,	 /* one struct pyrace_event, frames cut to nframes */
	TREC_CODE,	 /* a code object: address, first line, file, qualname, line table */
	TREC_STATS,	 /* counters at the end of the run */
	TREC_LOST,	 /* events lost in the kernel until now (a running total) */
	TREC_MODE,	 /* u32 flags (TMODE_*): what the recording left out on purpose */
	TREC_PROCESS,	 /* one traced address space: number, pid, parent, interpreter, argv */
	/* format 2 (all numbers LEB128 unless said otherwise) */
	TREC_THREAD, /* id < TRACE_THREAD_IDS, process number, pid, tid */
	TREC_KEY,    /* id < TRACE_KEY_IDS, u8 kind, key id, u8 length, text */
	/* id (1 .. TRACE_STACK_IDS), callers' stack id (0 none), u8 truncated, u8 n,
	 * n x (zigzag(code - code of the next frame, 0 if none), instr): these frames,
	 * innermost first, on top of the callers' */
	TREC_STACK,
	TREC_EV, /* one event: see trace_codec.h */
};

/* Ids a format-2 reader keeps at most (the writer's tables are no larger). */
#define TRACE_THREAD_IDS 4096u
#define TRACE_KEY_IDS	 65536u
#define TRACE_STACK_IDS	 16384u

enum trace_mode_flags {
	TMODE_NO_READS = 1, /* reads were not recorded: only write-write races can be found */
	/* --global-reads: the target ran unspecialised, so every LOAD_GLOBAL was a dict lookup */
	TMODE_GLOBAL_READS = 2,
};

/* Addresses in a trace carry the number of their process (TREC_PROCESS) above bit 48: user-space
 * addresses stay below 2^47 on x86-64, and a number rather than the pid because pids reach 2^22
 * and an exec gives the same pid a new address space. */
#define TRACE_ADDR_SHIFT    48
#define TRACE_ADDR_MASK	    ((1ull << TRACE_ADDR_SHIFT) - 1)
#define TRACE_MAX_PROCESSES 65535u

static inline uint64_t trace_tag_addr(uint16_t process, uint64_t addr)
{
	return (addr & TRACE_ADDR_MASK) | ((uint64_t)process << TRACE_ADDR_SHIFT);
}

/* Growable byte buffer for building and parsing record payloads. */
struct trace_buf {
	uint8_t *data;
	size_t len, cap, pos;
	int error; /* set when a read ran past the end or an allocation failed */
};

void trace_buf_reset(struct trace_buf *b);
void trace_buf_free(struct trace_buf *b);
void trace_put(struct trace_buf *b, const void *p, size_t n);
void trace_put_u32(struct trace_buf *b, uint32_t v);
void trace_put_u64(struct trace_buf *b, uint64_t v);
void trace_put_str(struct trace_buf *b, const char *s);
void trace_put_bytes(struct trace_buf *b, const void *p, uint32_t n);

/* Readers over a payload that is not owned: set data/len, pos = 0. */
uint32_t trace_get_u32(struct trace_buf *b);
uint64_t trace_get_u64(struct trace_buf *b);
/* Returns a malloc'd NUL-terminated copy, or NULL (and sets error). */
char *trace_get_str(struct trace_buf *b);
/* Returns a pointer into the payload and its length. */
const uint8_t *trace_get_bytes(struct trace_buf *b, uint32_t *n);

struct trace_stats {
	uint64_t lost_events;
	uint64_t truncated_stacks;
	uint64_t unresolved_code;
	uint64_t duration_ns;
	int32_t exit_status;  /* of the target, as from waitpid; -1 unknown */
	uint32_t ended_early; /* the target was killed or tracing was interrupted */
	/* followed processes that were not a supported CPython; written after the fields above,
	 * absent from older traces */
	uint32_t untraced_processes;
};

#endif
