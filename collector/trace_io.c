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

#include "varint.h"

/* Records are gathered here and written in large pieces: a write per event would cost more
 * than the event. */
#define TRACE_WRITE_BUFFER (1u << 20)

struct trace_writer {
	int fd;
	int failed;
	size_t len;
	uint8_t *buf;
};

static void write_out(struct trace_writer *w)
{
	for (size_t done = 0; done < w->len && !w->failed;) {
		ssize_t n = write(w->fd, w->buf + done, w->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->failed = 1;
		else
			done += (size_t)n;
	}
	w->len = 0;
}

static void put(struct trace_writer *w, const void *p, size_t n)
{
	if (w->len + n > TRACE_WRITE_BUFFER)
		write_out(w);
	if (n > TRACE_WRITE_BUFFER) {
		/* larger than the buffer (a big code object): straight to the file */
		uint8_t *saved = w->buf;
		w->buf = (uint8_t *)p;
		w->len = n;
		write_out(w);
		w->buf = saved;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

struct trace_writer *trace_writer_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	/* an existing file keeps its mode under O_CREAT: traces hold program data, keep them
	 * private */
	fchmod(fd, 0600);
	struct trace_writer *w = calloc(1, sizeof(*w));
	uint8_t *buf = malloc(TRACE_WRITE_BUFFER);
	if (!w || !buf) {
		free(w);
		free(buf);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	w->fd = fd;
	w->buf = buf;
	struct trace_file_header h = {.version = TRACE_VERSION, .byte_order = TRACE_BYTE_ORDER};
	memcpy(h.magic, TRACE_MAGIC, TRACE_MAGIC_LEN);
	put(w, &h, sizeof(h));
	return w;
}

int trace_writer_record(struct trace_writer *w, uint32_t type, const void *payload, uint32_t len)
{
	if (type == 0 || type > TRACE_MAX_RECORD_TYPE || len > TRACE_MAX_RECORD) {
		w->failed = 1;
		return -1;
	}
	uint8_t h[1 + VARINT_MAX_BYTES];
	h[0] = (uint8_t)type;
	size_t n = 1 + varint_put(h + 1, len);
	if (w->len + n + len <= TRACE_WRITE_BUFFER) {
		/* the common case, a small record: one copy */
		memcpy(w->buf + w->len, h, n);
		if (len)
			memcpy(w->buf + w->len + n, payload, len);
		w->len += n + len;
	} else {
		put(w, h, n);
		if (len)
			put(w, payload, len);
	}
	return w->failed ? -1 : 0;
}

size_t trace_record_header_size(uint32_t len)
{
	uint8_t h[VARINT_MAX_BYTES];
	return 1 + varint_put(h, len);
}

int trace_writer_flush(struct trace_writer *w)
{
	write_out(w);
	return w->failed ? -1 : 0;
}

int trace_writer_close(struct trace_writer *w)
{
	if (!w)
		return 0;
	write_out(w);
	if (close(w->fd))
		w->failed = 1;
	int rc = w->failed ? -1 : 0;
	free(w->buf);
	free(w);
	return rc;
}

/* Pages behind the reader are given back in steps of this many bytes. */
#define TRACE_RELEASE_STEP (8u << 20)

struct trace_reader {
	uint32_t version;
	uint8_t *map;
	size_t size, pos;
	size_t released; /* [0, released) of the map has been given back */
	size_t page;
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
	else if ((h.version != TRACE_VERSION && h.version != TRACE_VERSION_1) ||
		 (uint32_t)(uint8_t)h.magic[6] != h.version)
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
	r->version = h.version;
	r->map = map;
	r->size = (size_t)st.st_size;
	r->pos = sizeof(h);
	r->page = (size_t)sysconf(_SC_PAGESIZE);
	madvise(map, r->size, MADV_SEQUENTIAL); /* only a hint: read-ahead */
	return r;
}

int trace_reader_next(struct trace_reader *r, uint32_t *type, struct trace_buf *payload, char *why,
		      size_t whylen)
{
	/* Records are read once, in order, and copied by the caller: without this, every page of
	 * the trace stays resident until the reader is closed, and the analysis of an hour-long
	 * attach holds the whole trace in its RSS. Clean file pages, so dropping them is free and
	 * they would be read again if touched. */
	size_t behind = r->pos / r->page * r->page;
	if (behind - r->released >= TRACE_RELEASE_STEP) {
		madvise(r->map + r->released, behind - r->released, MADV_DONTNEED);
		r->released = behind;
	}
	if (r->pos == r->size)
		return 0;
	uint32_t rtype;
	uint64_t len;
	size_t header;
	if (r->version == TRACE_VERSION_1) {
		struct trace_record_header h;
		if (r->size - r->pos < sizeof(h)) {
			snprintf(why, whylen, "trace truncated at byte %zu (partial record header)",
				 r->pos);
			return -1;
		}
		memcpy(&h, r->map + r->pos, sizeof(h));
		rtype = h.type;
		len = h.len;
		header = sizeof(h);
	} else {
		const uint8_t *p = r->map + r->pos, *end = r->map + r->size;
		rtype = *p++;
		/* a length takes at most 4 bytes: a 5th is corruption, an end before it a cut */
		size_t avail = (size_t)(end - p);
		if (varint_get(&p, avail > 4 ? p + 4 : end, &len)) {
			if (avail < 4) {
				snprintf(why, whylen,
					 "trace truncated at byte %zu (partial record header)",
					 r->pos);
				return -1;
			}
			len = UINT64_MAX;
		}
		header = (size_t)(p - (r->map + r->pos));
	}
	if (rtype == 0 || len > TRACE_MAX_RECORD) {
		snprintf(why, whylen, "trace corrupt at byte %zu (record type %u, length %llu)",
			 r->pos, rtype, (unsigned long long)len);
		return -1;
	}
	if (r->size - r->pos - header < len) {
		snprintf(why, whylen, "trace truncated at byte %zu (partial record)", r->pos);
		return -1;
	}
	*type = rtype;
	payload->data = r->map + r->pos + header;
	payload->len = len;
	payload->cap = 0;
	payload->pos = 0;
	payload->error = 0;
	r->pos += header + len;
	return 1;
}

uint32_t trace_reader_version(const struct trace_reader *r)
{
	return r->version;
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
