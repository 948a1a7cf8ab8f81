/* Writing and reading trace files; a file cut at any byte stays readable up to its last record. */
#include "trace_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct trace_writer {
	FILE *file;
	int failed;
};

struct trace_writer *trace_writer_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	/* an existing file keeps its mode under O_CREAT: traces hold program data, keep them
	 * private */
	fchmod(fd, 0600);
	struct trace_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->file = fdopen(fd, "wb"))) {
		int saved = errno;
		free(w);
		close(fd);
		errno = saved;
		return NULL;
	}
	setvbuf(w->file, NULL, _IOFBF, 1 << 20);
	struct trace_file_header h = {.version = TRACE_VERSION, .byte_order = TRACE_BYTE_ORDER};
	memcpy(h.magic, TRACE_MAGIC, TRACE_MAGIC_LEN);
	if (fwrite(&h, sizeof(h), 1, w->file) != 1)
		w->failed = 1;
	return w;
}

int trace_writer_record(struct trace_writer *w, uint32_t type, const void *payload, uint32_t len)
{
	struct trace_record_header h = {.type = type, .len = len};
	if (fwrite(&h, sizeof(h), 1, w->file) != 1 ||
	    (len && fwrite(payload, len, 1, w->file) != 1))
		w->failed = 1;
	return w->failed ? -1 : 0;
}

int trace_writer_flush(struct trace_writer *w)
{
	if (fflush(w->file))
		w->failed = 1;
	return w->failed ? -1 : 0;
}

int trace_writer_close(struct trace_writer *w)
{
	if (!w)
		return 0;
	if (fclose(w->file))
		w->failed = 1;
	int rc = w->failed ? -1 : 0;
	free(w);
	return rc;
}

/* Pages behind the reader are given back in steps of this many bytes. */
#define TRACE_RELEASE_STEP (8u << 20)

struct trace_reader {
	uint8_t *map;
	size_t size, pos;
	size_t released; /* [0, released) of the map has been given back */
};

struct trace_reader *trace_reader_open(const char *path, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open trace %s: %s", path, strerror(errno));
		return NULL;
	}
	struct stat st;
	struct trace_file_header h;
	if (fstat(fd, &st) || (size_t)st.st_size < sizeof(h)) {
		snprintf(why, whylen, "%s is not a pyrace trace (too short)", path);
		close(fd);
		return NULL;
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(why, whylen, "cannot read trace %s: %s", path, strerror(errno));
		return NULL;
	}
	memcpy(&h, map, sizeof(h));
	const char *problem = NULL;
	if (memcmp(h.magic, TRACE_MAGIC, TRACE_MAGIC_LEN - 2) != 0 ||
	    h.magic[TRACE_MAGIC_LEN - 1] != TRACE_MAGIC[TRACE_MAGIC_LEN - 1])
		problem = "is not a pyrace trace";
	else if (h.byte_order != TRACE_BYTE_ORDER)
		problem = "was written on a machine of the other byte order";
	else if (h.version != TRACE_VERSION || h.magic[6] != TRACE_MAGIC[6])
		problem = "has an unknown trace format version";
	if (problem) {
		snprintf(why, whylen, "%s %s", path, problem);
		munmap(map, (size_t)st.st_size);
		return NULL;
	}
	struct trace_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		munmap(map, (size_t)st.st_size);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	r->map = map;
	r->size = (size_t)st.st_size;
	r->pos = sizeof(h);
	madvise(map, r->size, MADV_SEQUENTIAL); /* only a hint: read-ahead */
	return r;
}

int trace_reader_next(struct trace_reader *r, uint32_t *type, struct trace_buf *payload, char *why,
		      size_t whylen)
{
	struct trace_record_header h;
	/* Records are read once, in order, and copied by the caller: without this, every page of
	 * the trace stays resident until the reader is closed, and the analysis of an hour-long
	 * attach holds the whole trace in its RSS. Clean file pages, so dropping them is free and
	 * they would be read again if touched. */
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t behind = r->pos / page * page;
	if (behind - r->released >= TRACE_RELEASE_STEP) {
		madvise(r->map + r->released, behind - r->released, MADV_DONTNEED);
		r->released = behind;
	}
	if (r->pos == r->size)
		return 0;
	if (r->size - r->pos < sizeof(h)) {
		snprintf(why, whylen, "trace truncated at byte %zu (partial record header)",
			 r->pos);
		return -1;
	}
	memcpy(&h, r->map + r->pos, sizeof(h));
	if (h.type == 0 || h.len > TRACE_MAX_RECORD) {
		snprintf(why, whylen, "trace corrupt at byte %zu (record type %u, length %u)",
			 r->pos, h.type, h.len);
		return -1;
	}
	if (r->size - r->pos - sizeof(h) < h.len) {
		snprintf(why, whylen, "trace truncated at byte %zu (partial record)", r->pos);
		return -1;
	}
	*type = h.type;
	payload->data = r->map + r->pos + sizeof(h);
	payload->len = h.len;
	payload->cap = 0;
	payload->pos = 0;
	payload->error = 0;
	r->pos += sizeof(h) + h.len;
	return 1;
}

uint64_t trace_reader_offset(const struct trace_reader *r)
{
	return r->pos;
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	munmap(r->map, r->size);
	free(r);
}
