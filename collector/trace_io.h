/* Writing and reading trace files; a file cut at any byte stays readable up to its last record. */
#ifndef PYRACE_TRACE_IO_H
#define PYRACE_TRACE_IO_H

#include <stddef.h>
#include <stdint.h>
#include "trace_format.h"

struct trace_writer;

/* Creates (or truncates) `path` with mode 0600 and writes the header; NULL with errno set. */
struct trace_writer *trace_writer_open(const char *path);
/* `type`: 1 .. TRACE_MAX_RECORD_TYPE; `len` at most TRACE_MAX_RECORD. */
int trace_writer_record(struct trace_writer *w, uint32_t type, const void *payload, uint32_t len);
/* Bytes a record of `len` payload bytes takes before its payload. */
size_t trace_record_header_size(uint32_t len);
/* Pushes buffered records to the file, so that an interrupted run keeps them. */
int trace_writer_flush(struct trace_writer *w);
/* Flushes and closes; returns -1 if any write failed. */
int trace_writer_close(struct trace_writer *w);

struct trace_reader;

/* Opens a trace; on failure returns NULL and one line for the user in `why`. */
struct trace_reader *trace_reader_open(const char *path, char *why, size_t whylen);
/* Returns 1 and the next record (payload points into the reader and is valid until the next
 * call: the pages already read are given back), 0 at a clean end, -1 when the rest of the file
 * is truncated or corrupt (with `why`). */
int trace_reader_next(struct trace_reader *r, uint32_t *type, struct trace_buf *payload, char *why,
		      size_t whylen);
uint64_t trace_reader_offset(const struct trace_reader *r);
/* TRACE_VERSION, or TRACE_VERSION_1 for a trace of the first format. */
uint32_t trace_reader_version(const struct trace_reader *r);
void trace_reader_close(struct trace_reader *r);

#endif
