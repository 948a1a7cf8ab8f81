/* Trace files: round trips, cuts at every byte, corrupt input, file mode, analysis of traces. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "events.h"
#include "report.h"
#include "trace_codec.h"
#include "trace_format.h"
#include "trace_io.h"

#define HEADER_SIZE	((long)sizeof(struct trace_file_header))
#define REC_HEADER(len) trace_record_header_size((uint32_t)(len))

static char tmpdir[] = "/tmp/pyrace-trace-test-XXXXXX";

static int make_tmpdir(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_in_tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* ---- file helpers ------------------------------------------------------------------------ */

static uint8_t *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	uint8_t *data = malloc(n ? (size_t)n : 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return data;
}

static void write_whole(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* ---- a set of test records --------------------------------------------------------------- */

struct rec {
	uint32_t type;
	uint32_t len;
	uint8_t *data;
};

static void make_records(struct rec *recs, size_t n, const uint32_t *lens, unsigned seed)
{
	static const uint32_t types[] = {TREC_TARGET, TREC_EVENT, TREC_CODE,
					 TREC_STATS,  TREC_LOST,  99};
	srand(seed);
	for (size_t i = 0; i < n; i++) {
		recs[i].type = types[i % 6];
		recs[i].len = lens[i];
		recs[i].data = malloc(lens[i] ? lens[i] : 1);
		assert_non_null(recs[i].data);
		for (uint32_t j = 0; j < lens[i]; j++)
			recs[i].data[j] = (uint8_t)rand();
	}
}

static void free_records(struct rec *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(recs[i].data);
}

/* Writes the records; `ends[i]` gets the file offset just after record i. */
static void write_records(const char *path, const struct rec *recs, size_t n, size_t *ends)
{
	struct trace_writer *w = trace_writer_open(path);
	assert_non_null(w);
	size_t off = (size_t)HEADER_SIZE;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(trace_writer_record(w, recs[i].type, recs[i].data, recs[i].len),
				 0);
		off += REC_HEADER(recs[i].len) + recs[i].len;
		if (ends)
			ends[i] = off;
	}
	assert_int_equal(trace_writer_close(w), 0);
}

/* ---- round trip -------------------------------------------------------------------------- */

static void test_roundtrip(void **state)
{
	(void)state;
	char path[256];
	path_in_tmp(path, sizeof(path), "roundtrip.trace");
	const uint32_t lens[] = {0, 1, 1000, 8, 37, 40, 300000, 3};
	enum { N = sizeof(lens) / sizeof(lens[0]) };
	struct rec recs[N];
	make_records(recs, N, lens, 1);
	size_t ends[N];
	write_records(path, recs, N, ends);

	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((size_t)st.st_size, ends[N - 1]);
	size_t size;
	uint8_t *raw = read_whole(path, &size);
	struct trace_file_header h;
	memcpy(&h, raw, sizeof(h));
	assert_memory_equal(h.magic, TRACE_MAGIC, TRACE_MAGIC_LEN);
	assert_int_equal(h.version, TRACE_VERSION);
	assert_int_equal(h.byte_order, TRACE_BYTE_ORDER);
	free(raw);

	char why[256] = "";
	struct trace_reader *r = trace_reader_open(path, why, sizeof(why));
	assert_non_null(r);
	assert_int_equal(trace_reader_offset(r), HEADER_SIZE);
	for (size_t i = 0; i < N; i++) {
		uint32_t type = 0;
		struct trace_buf p;
		memset(&p, 0xa5, sizeof(p));
		assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), 1);
		assert_int_equal(type, recs[i].type);
		assert_int_equal(p.len, recs[i].len);
		assert_int_equal(p.pos, 0);
		assert_int_equal(p.error, 0);
		if (recs[i].len)
			assert_memory_equal(p.data, recs[i].data, recs[i].len);
		assert_int_equal(trace_reader_offset(r), ends[i]);
	}
	uint32_t type;
	struct trace_buf p;
	assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), 0);
	assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), 0);
	trace_reader_close(r);
	free_records(recs, N);
}

/* What was flushed is on disk while the writer is still open. */
static void test_flush_keeps_records(void **state)
{
	(void)state;
	char path[256], why[256];
	path_in_tmp(path, sizeof(path), "flush.trace");
	struct trace_writer *w = trace_writer_open(path);
	assert_non_null(w);
	const char payload[] = "first";
	assert_int_equal(trace_writer_record(w, TREC_EVENT, payload, sizeof(payload)), 0);
	assert_int_equal(trace_writer_flush(w), 0);

	struct trace_reader *r = trace_reader_open(path, why, sizeof(why));
	assert_non_null(r);
	uint32_t type;
	struct trace_buf p;
	assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), 1);
	assert_int_equal(type, TREC_EVENT);
	assert_int_equal(p.len, sizeof(payload));
	assert_memory_equal(p.data, payload, sizeof(payload));
	assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), 0);
	trace_reader_close(r);
	assert_int_equal(trace_writer_close(w), 0);
}

/* A trace far longer than the step in which the reader gives pages back: every record still
 * reads back intact, across and after the releases. */
static void test_long_trace_reads_back(void **state)
{
	(void)state;
	enum { RECORDS = 12000, LEN = 3001 }; /* about 36 MiB, records across page boundaries */
	char path[256], why[256];
	uint8_t payload[LEN];
	path_in_tmp(path, sizeof(path), "long.trace");
	struct trace_writer *w = trace_writer_open(path);
	assert_non_null(w);
	for (uint32_t i = 0; i < RECORDS; i++) {
		for (size_t k = 0; k < LEN; k++)
			payload[k] = (uint8_t)(i * 31 + k);
		assert_int_equal(trace_writer_record(w, TREC_EVENT, payload, LEN), 0);
	}
	assert_int_equal(trace_writer_close(w), 0);

	struct trace_reader *r = trace_reader_open(path, why, sizeof(why));
	assert_non_null(r);
	for (uint32_t i = 0; i < RECORDS; i++) {
		uint32_t type;
		struct trace_buf p;
		assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), 1);
		assert_int_equal(p.len, LEN);
		for (size_t k = 0; k < LEN; k++)
			payload[k] = (uint8_t)(i * 31 + k);
		assert_memory_equal(p.data, payload, LEN);
	}
	uint32_t type;
	struct trace_buf p;
	assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), 0);
	trace_reader_close(r);
	unlink(path);
}

/* ---- cut at every byte ------------------------------------------------------------------- */

static void test_cut_at_every_byte(void **state)
{
	(void)state;
	char full[256], cut[256];
	path_in_tmp(full, sizeof(full), "full.trace");
	path_in_tmp(cut, sizeof(cut), "cut.trace");
	const uint32_t lens[] = {12, 0, 33, 1, 8, 0, 57, 5, 16};
	enum { N = sizeof(lens) / sizeof(lens[0]) };
	struct rec recs[N];
	make_records(recs, N, lens, 2);
	size_t ends[N];
	write_records(full, recs, N, ends);
	size_t size;
	uint8_t *data = read_whole(full, &size);
	assert_int_equal(size, ends[N - 1]);

	for (size_t len = 0; len <= size; len++) {
		write_whole(cut, data, len);
		char why[512] = "";
		struct trace_reader *r = trace_reader_open(cut, why, sizeof(why));
		if (len < (size_t)HEADER_SIZE) {
			assert_null(r);
			assert_non_null(strstr(why, cut));
			assert_non_null(strstr(why, "too short"));
			continue;
		}
		assert_non_null(r);
		size_t complete = 0;
		while (complete < N && ends[complete] <= len)
			complete++;
		for (size_t i = 0; i < complete; i++) {
			uint32_t type;
			struct trace_buf p;
			assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), 1);
			assert_int_equal(type, recs[i].type);
			assert_int_equal(p.len, recs[i].len);
			if (p.len)
				assert_memory_equal(p.data, recs[i].data, p.len);
		}
		size_t boundary = complete ? ends[complete - 1] : (size_t)HEADER_SIZE;
		uint32_t type;
		struct trace_buf p;
		why[0] = '\0';
		int rc = trace_reader_next(r, &type, &p, why, sizeof(why));
		if (len == boundary) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(why, "truncated"));
			char at[64];
			snprintf(at, sizeof(at), "at byte %zu ", boundary);
			assert_non_null(strstr(why, at));
			/* asking again gives the same answer, never a record */
			assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), -1);
		}
		assert_int_equal(trace_reader_offset(r), boundary);
		trace_reader_close(r);
	}
	free(data);
	free_records(recs, N);
}

/* ---- corrupt headers and records --------------------------------------------------------- */

static void write_header_only(const char *path)
{
	struct trace_writer *w = trace_writer_open(path);
	assert_non_null(w);
	assert_int_equal(trace_writer_close(w), 0);
}

/* Opens a copy of a header-only trace with `patch` applied at `offset`; returns the message. */
static void expect_rejected(const char *path, size_t offset, const void *patch, size_t n,
			    const char *problem)
{
	size_t size;
	write_header_only(path);
	uint8_t *data = read_whole(path, &size);
	assert_int_equal(size, (size_t)HEADER_SIZE);
	memcpy(data + offset, patch, n);
	write_whole(path, data, size);
	free(data);
	char why[512] = "";
	struct trace_reader *r = trace_reader_open(path, why, sizeof(why));
	if (r) {
		trace_reader_close(r);
		fail_msg("a header patched at byte %zu was accepted", offset);
	}
	assert_non_null(strstr(why, path));
	if (!strstr(why, problem))
		fail_msg("message \"%s\" does not say \"%s\"", why, problem);
}

static void test_bad_magic(void **state)
{
	(void)state;
	char path[256];
	path_in_tmp(path, sizeof(path), "magic.trace");
	for (size_t i = 0; i < 6; i++) {
		uint8_t b = (uint8_t)(TRACE_MAGIC[i] ^ 0x20);
		expect_rejected(path, i, &b, 1, "is not a pyrace trace");
	}
	uint8_t v = 3; /* the version byte of the magic */
	expect_rejected(path, 6, &v, 1, "unknown trace format version");
	v = 1; /* format 1 in the magic, not in the version field */
	expect_rejected(path, 6, &v, 1, "unknown trace format version");
}

/* Regression (fixed): trace_io.c trace_reader_open() compares only TRACE_MAGIC_LEN - 2 bytes of the
 * magic and then byte 6; byte 7 (the '\n' of "PYRACE\001\n") is never checked, so a header whose
 * magic ends in any other byte is accepted as a trace. */
static void test_bad_magic_last_byte(void **state)
{
	(void)state;
	char path[256];
	path_in_tmp(path, sizeof(path), "magic7.trace");
	uint8_t b = '\r';
	expect_rejected(path, 7, &b, 1, "is not a pyrace trace");
}

static void test_bad_version_and_byte_order(void **state)
{
	(void)state;
	char path[256];
	path_in_tmp(path, sizeof(path), "version.trace");
	uint32_t version = TRACE_VERSION + 1;
	expect_rejected(path, offsetof(struct trace_file_header, version), &version,
			sizeof(version), "unknown trace format version");
	uint32_t swapped = __builtin_bswap32(TRACE_BYTE_ORDER);
	expect_rejected(path, offsetof(struct trace_file_header, byte_order), &swapped,
			sizeof(swapped), "other byte order");
}

static void test_unreadable_paths(void **state)
{
	(void)state;
	char path[256], why[512] = "";
	path_in_tmp(path, sizeof(path), "does-not-exist.trace");
	assert_null(trace_reader_open(path, why, sizeof(why)));
	assert_non_null(strstr(why, "cannot open trace"));
	assert_non_null(strstr(why, path));
	assert_non_null(strstr(why, strerror(ENOENT)));
	why[0] = '\0';
	assert_null(trace_reader_open(tmpdir, why, sizeof(why))); /* a directory */
	assert_non_null(strstr(why, tmpdir));
	/* an empty file */
	path_in_tmp(path, sizeof(path), "empty.trace");
	write_whole(path, NULL, 0);
	why[0] = '\0';
	assert_null(trace_reader_open(path, why, sizeof(why)));
	assert_non_null(strstr(why, "too short"));
	/* a header alone is an empty trace */
	write_header_only(path);
	struct trace_reader *r = trace_reader_open(path, why, sizeof(why));
	assert_non_null(r);
	uint32_t type;
	struct trace_buf p;
	assert_int_equal(trace_reader_next(r, &type, &p, why, sizeof(why)), 0);
	trace_reader_close(r);
	trace_reader_close(NULL);
}

/* A trace of three records whose second record header is replaced by (type, len). */
static void expect_bad_record(const char *path, uint32_t type, uint32_t len, const char *problem)
{
	const uint32_t lens[] = {10, 20, 30};
	struct rec recs[3];
	make_records(recs, 3, lens, 3);
	size_t ends[3];
	write_records(path, recs, 3, ends);
	size_t size;
	uint8_t *data = read_whole(path, &size);
	/* a format-2 header: type byte, then the length in LEB128 */
	uint8_t h[6];
	size_t n = 0;
	h[n++] = (uint8_t)type;
	for (uint64_t v = len;; v >>= 7) {
		h[n++] = (uint8_t)(v < 0x80 ? v : (v & 0x7f) | 0x80);
		if (v < 0x80)
			break;
	}
	memcpy(data + ends[0], h, n);
	write_whole(path, data, size);
	free(data);

	char why[512] = "";
	struct trace_reader *r = trace_reader_open(path, why, sizeof(why));
	assert_non_null(r);
	uint32_t t;
	struct trace_buf p;
	assert_int_equal(trace_reader_next(r, &t, &p, why, sizeof(why)), 1);
	assert_int_equal(t, recs[0].type);
	assert_memory_equal(p.data, recs[0].data, recs[0].len);
	assert_int_equal(trace_reader_next(r, &t, &p, why, sizeof(why)), -1);
	if (!strstr(why, problem))
		fail_msg("message \"%s\" does not say \"%s\"", why, problem);
	char at[64];
	snprintf(at, sizeof(at), "at byte %zu ", ends[0]);
	assert_non_null(strstr(why, at));
	assert_int_equal(trace_reader_offset(r), ends[0]);
	trace_reader_close(r);
	free_records(recs, 3);
}

static void test_bad_record_length(void **state)
{
	(void)state;
	char path[256];
	path_in_tmp(path, sizeof(path), "record.trace");
	expect_bad_record(path, TREC_EVENT, TRACE_MAX_RECORD + 1, "corrupt");
	expect_bad_record(path, TREC_EVENT, UINT32_MAX, "corrupt");
	expect_bad_record(path, TREC_EVENT, UINT32_MAX - 7, "corrupt");
	expect_bad_record(path, 0, 20, "corrupt");
	/* longer than what is left, within the limit */
	expect_bad_record(path, TREC_EVENT, 20 + REC_HEADER(30) + 30 + 1, "truncated");
	expect_bad_record(path, TREC_EVENT, TRACE_MAX_RECORD, "truncated");
}

/* ---- file mode --------------------------------------------------------------------------- */

static void test_file_mode(void **state)
{
	(void)state;
	char path[256];
	mode_t old = umask(0);
	path_in_tmp(path, sizeof(path), "mode-new.trace");
	struct trace_writer *w = trace_writer_open(path);
	assert_non_null(w);
	assert_int_equal(trace_writer_close(w), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* an existing world-readable file with contents */
	path_in_tmp(path, sizeof(path), "mode-old.trace");
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old contents, longer than a header", 34), 34);
	assert_int_equal(fchmod(fd, 0644), 0);
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	w = trace_writer_open(path);
	assert_non_null(w);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(trace_writer_close(w), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, HEADER_SIZE);
	umask(old);

	path_in_tmp(path, sizeof(path), "no-such-dir/x.trace");
	errno = 0;
	assert_null(trace_writer_open(path));
	assert_int_equal(errno, ENOENT);
}

/* ---- payload buffers --------------------------------------------------------------------- */

static void test_trace_buf(void **state)
{
	(void)state;
	struct trace_buf b = {0};
	trace_put_u32(&b, 0xdeadbeef);
	trace_put_u64(&b, 0x0123456789abcdefull);
	trace_put_str(&b, "hello");
	trace_put_str(&b, "");
	const uint8_t bytes[] = {0, 1, 2, 255};
	trace_put_bytes(&b, bytes, sizeof(bytes));
	assert_false(b.error);
	assert_int_equal(b.len, 4 + 8 + 4 + 5 + 4 + 4 + 4);

	b.pos = 0;
	assert_int_equal(trace_get_u32(&b), 0xdeadbeef);
	assert_int_equal(trace_get_u64(&b), 0x0123456789abcdefull);
	char *s = trace_get_str(&b);
	assert_string_equal(s, "hello");
	free(s);
	s = trace_get_str(&b);
	assert_string_equal(s, "");
	free(s);
	uint32_t n;
	const uint8_t *p = trace_get_bytes(&b, &n);
	assert_int_equal(n, sizeof(bytes));
	assert_memory_equal(p, bytes, sizeof(bytes));
	assert_false(b.error);
	assert_int_equal(b.pos, b.len);
	/* past the end: zero, NULL, and the error sticks */
	assert_int_equal(trace_get_u32(&b), 0);
	assert_true(b.error);
	assert_null(trace_get_str(&b));

	/* a length prefix larger than what follows */
	trace_buf_reset(&b);
	trace_put_u32(&b, 1000);
	trace_put(&b, "abc", 3);
	b.pos = 0;
	assert_null(trace_get_str(&b));
	assert_true(b.error);
	p = trace_get_bytes(&b, &n);
	assert_null(p);
	assert_int_equal(n, 0);
	trace_buf_reset(&b);
	assert_false(b.error);
	assert_int_equal(b.len, 0);
	trace_buf_free(&b);
	assert_null(b.data);
}

/* ---- analysis of a synthetic trace ------------------------------------------------------- */

enum { MAIN = 5000, T1 = 5001, T2 = 5002 };
#define MAIN_MOD 0x10000ull
#define CACHE	 0x20000ull
#define CODE_W	 0x7000100ull

/* Compiles `src` with python3 and returns function `func`'s first line, qualname, co_linetable
 * and the line of each code unit (from co_positions()). */
struct pyfunc {
	int first_line;
	char qualname[128];
	uint8_t table[8192];
	uint32_t table_len;
	int lines[8192];
	size_t nunits;
};

static void python_function(const char *file, const char *src, const char *func, struct pyfunc *out)
{
	static const char script[] =
	    "python3 - <<'EOF'\n"
	    "import os\n"
	    "co = compile(os.environ['PYRACE_T_SRC'], os.environ['PYRACE_T_FILE'], 'exec')\n"
	    "f = [c for c in co.co_consts if hasattr(c, 'co_linetable')\n"
	    "     and c.co_name == os.environ['PYRACE_T_FUNC']][0]\n"
	    "print(f.co_firstlineno, f.co_qualname, f.co_linetable.hex())\n"
	    "for p in f.co_positions():\n"
	    "    print(-1 if p[0] is None else p[0])\n"
	    "EOF\n";
	memset(out, 0, sizeof(*out));
	setenv("PYRACE_T_SRC", src, 1);
	setenv("PYRACE_T_FILE", file, 1);
	setenv("PYRACE_T_FUNC", func, 1);
	FILE *p = popen(script, "r");
	assert_non_null(p);
	static char hex[2 * 8192 + 2];
	assert_int_equal(fscanf(p, "%d %127s %16385s", &out->first_line, out->qualname, hex), 3);
	size_t n = strlen(hex) / 2;
	assert_true(n < sizeof(out->table));
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out->table[i] = (uint8_t)v;
	}
	out->table_len = (uint32_t)n;
	while (out->nunits < 8192 && fscanf(p, "%d", &out->lines[out->nunits]) == 1)
		out->nunits++;
	assert_int_equal(pclose(p), 0);
	assert_true(out->nunits > 0);
}

static uint32_t unit_on_line(const struct pyfunc *fn, int line)
{
	for (size_t i = 0; i < fn->nunits; i++)
		if (fn->lines[i] == line)
			return (uint32_t)i;
	fail_msg("no code unit on line %d", line);
	return 0;
}

/* A trace being written: format 2 through the consumer's encoder, or format 1 as its writers
 * wrote it (8-byte record headers, whole events), to check that old traces stay readable. */
struct trace_build {
	int version;
	const char *path;
	struct trace_writer *w;
	struct trace_encoder enc;
	FILE *v1;
	size_t events;
};

static void build_open(struct trace_build *t, const char *path, int version)
{
	memset(t, 0, sizeof(*t));
	t->version = version;
	t->path = path;
	if (version == TRACE_VERSION_1) {
		t->v1 = fopen(path, "wb");
		assert_non_null(t->v1);
		struct trace_file_header h = {.version = 1, .byte_order = TRACE_BYTE_ORDER};
		memcpy(h.magic, "PYRACE\001\n", TRACE_MAGIC_LEN);
		assert_int_equal(fwrite(&h, sizeof(h), 1, t->v1), 1);
		return;
	}
	t->w = trace_writer_open(path);
	assert_non_null(t->w);
	assert_int_equal(trace_encoder_init(&t->enc, t->w), 0);
}

/* The file offset reached: everything written so far is on disk. */
static size_t build_offset(struct trace_build *t)
{
	if (t->v1)
		assert_int_equal(fflush(t->v1), 0);
	else
		assert_int_equal(trace_writer_flush(t->w), 0);
	struct stat st;
	assert_int_equal(stat(t->path, &st), 0);
	return (size_t)st.st_size;
}

static void build_close(struct trace_build *t)
{
	if (t->v1) {
		assert_int_equal(fclose(t->v1), 0);
		return;
	}
	assert_false(t->enc.failed);
	trace_encoder_free(&t->enc);
	assert_int_equal(trace_writer_close(t->w), 0);
}

static void put_record(struct trace_build *t, uint32_t type, const void *p, size_t len)
{
	if (t->v1) {
		struct trace_record_header h = {.type = type, .len = (uint32_t)len};
		assert_int_equal(fwrite(&h, sizeof(h), 1, t->v1), 1);
		assert_int_equal(fwrite(p, 1, len, t->v1), len);
		return;
	}
	assert_int_equal(trace_writer_record(t->w, type, p, (uint32_t)len), 0);
}

/* One event, as the consumer writes it. */
static void put_event(struct trace_build *t, uint8_t type, uint8_t op, uint32_t tid, uint64_t obj,
		      uint64_t aux, const char *key, uint64_t code, uint32_t instr)
{
	struct pyrace_event e;
	memset(&e, 0, sizeof(e));
	e.ts_ns = 1000 + t->events;
	e.pid = MAIN;
	e.tid = tid;
	e.type = type;
	e.op = op;
	e.obj = obj;
	e.aux = aux;
	if (key) {
		e.key_kind = PYKEY_STR;
		e.key_len = (uint8_t)strlen(key);
		memcpy(e.key, key, e.key_len);
		e.key_id = 0x1000 + (uint64_t)key[0];
	}
	if (code) {
		e.nframes = 1;
		e.frames[0].code = code;
		e.frames[0].instr = instr;
	}
	t->events++;
	if (t->v1) {
		put_record(t, TREC_EVENT, &e,
			   PYRACE_EVENT_HEADER_SIZE + e.nframes * sizeof(struct pyrace_frame));
		return;
	}
	int check;
	uint32_t stack = trace_encode_stack(&t->enc, e.frames, e.nframes, e.truncated, &check);
	assert_int_equal(trace_encode_event(&t->enc, &e, stack), 0);
}

/* Offsets in the synthetic trace: after the target record, after each race's second access,
 * after the TREC_LOST record, before the final TREC_STATS, and its size. */
struct layout {
	size_t target_end, race_k_end, race_j_end, lost_end, stats_start, size;
	size_t events;
	int line_k, line_j;
};

static void write_synthetic_trace(const char *path, int version, struct layout *out)
{
	static const char src[] = "CACHE = {}\n"
				  "\n"
				  "def worker(k):\n"
				  "    CACHE[k] = k\n"
				  "    return CACHE.get(k)\n";
	struct pyfunc fn;
	python_function("/srv/app.py", src, "worker", &fn);
	out->line_k = 4;
	out->line_j = 5;
	uint32_t unit_k = unit_on_line(&fn, out->line_k), unit_j = unit_on_line(&fn, out->line_j);

	struct trace_build t;
	build_open(&t, path, version);
	struct trace_buf b = {0};
	trace_put_u32(&b, MAIN);
	trace_put_str(&b, "3.11.2");
	trace_put_str(&b, "/usr/bin/python3.11");
	trace_put_str(&b, "release");
	trace_put_u32(&b, 2);
	trace_put_str(&b, "python3");
	trace_put_str(&b, "app.py");
	assert_false(b.error);
	put_record(&t, TREC_TARGET, b.data, b.len);
	out->target_end = build_offset(&t);

	trace_buf_reset(&b);
	trace_put_u64(&b, CODE_W);
	trace_put_u32(&b, (uint32_t)fn.first_line);
	trace_put_str(&b, "/srv/app.py");
	trace_put_str(&b, fn.qualname);
	trace_put_bytes(&b, fn.table, fn.table_len);
	assert_false(b.error);
	put_record(&t, TREC_CODE, b.data, b.len);

	put_event(&t, PYEV_WATCH, PYWATCH_MODULE, MAIN, MAIN_MOD, 0, "__main__", 0, 0);
	put_event(&t, PYEV_WATCH, PYWATCH_GLOBAL_DICT, MAIN, CACHE, MAIN_MOD, "CACHE", 0, 0);
	put_event(&t, PYEV_ACCESS, PYOP_WRITE, T1, CACHE, 0, "k", CODE_W, unit_k);
	put_event(&t, PYEV_ACCESS, PYOP_WRITE, T2, CACHE, 0, "k", CODE_W, unit_k);
	out->race_k_end = build_offset(&t);
	const uint64_t lost = 5;
	put_record(&t, TREC_LOST, &lost, sizeof(lost));
	out->lost_end = build_offset(&t);
	put_record(&t, 77, "from a newer writer", 19);
	put_event(&t, PYEV_ACCESS, PYOP_WRITE, T1, CACHE, 0, "j", CODE_W, unit_k);
	put_event(&t, PYEV_ACCESS, PYOP_READ, T2, CACHE, 0, "j", CODE_W, unit_j);
	out->race_j_end = build_offset(&t);
	out->stats_start = out->race_j_end;

	trace_buf_reset(&b);
	trace_put_u64(&b, 7);		  /* lost events */
	trace_put_u64(&b, 0);		  /* truncated stacks */
	trace_put_u64(&b, 2);		  /* unresolved code */
	trace_put_u64(&b, 1500000000ull); /* duration */
	trace_put_u32(&b, 0);		  /* exit status */
	trace_put_u32(&b, 0);		  /* ended early */
	assert_false(b.error);
	put_record(&t, TREC_STATS, b.data, b.len);
	out->size = build_offset(&t);
	out->events = t.events;
	trace_buf_free(&b);
	build_close(&t);
}

static const struct report_race *race_on(const struct report *r, const char *key)
{
	for (size_t i = 0; i < r->nraces; i++)
		if (r->races[i].variable.key && strcmp(r->races[i].variable.key, key) == 0)
			return &r->races[i];
	return NULL;
}

static void check_access(const struct report_access *a, const char *op, uint32_t tid,
			 const char *thread, int line)
{
	assert_string_equal(a->op, op);
	assert_int_equal(a->thread.tid, tid);
	assert_string_equal(a->thread.name, thread);
	assert_int_equal(a->nlocks, 0);
	assert_int_equal(a->stack.nframes, 1);
	assert_false(a->stack.truncated);
	assert_string_equal(a->stack.frames[0].file, "/srv/app.py");
	assert_string_equal(a->stack.frames[0].function, "worker");
	assert_int_equal(a->stack.frames[0].line, line);
}

static void analyse_synthetic_trace(int version)
{
	char path[256], why[512] = "", warning[512] = "x";
	path_in_tmp(path, sizeof(path), "synthetic.trace");
	struct layout l;
	write_synthetic_trace(path, version, &l);
	struct analysis *a = analysis_of_trace(path, why, sizeof(why), warning, sizeof(warning));
	if (!a)
		fail_msg("analysis failed: %s", why);
	assert_string_equal(warning, "");
	const struct report *r = analysis_report(a);

	assert_int_equal(r->target.pid, MAIN);
	assert_int_equal(r->target.argc, 2);
	assert_string_equal(r->target.argv[0], "python3");
	assert_string_equal(r->target.argv[1], "app.py");
	assert_string_equal(r->target.python_version, "3.11.2");
	assert_string_equal(r->target.executable, "/usr/bin/python3.11");
	assert_string_equal(r->target.build, "release");

	assert_int_equal(r->stats.events, l.events);
	assert_int_equal(r->stats.lost_events, 7);
	assert_int_equal(r->stats.threads, 2);
	assert_int_equal(r->stats.watched_dicts, 1);
	assert_int_equal(r->stats.truncated_stacks, 0);
	assert_int_equal(r->stats.unresolved_frames, 2);
	assert_true(r->stats.duration_s > 1.4999 && r->stats.duration_s < 1.5001);
	assert_int_equal(r->stats.ended_early, 0);

	assert_int_equal(r->nraces, 2);
	const struct report_race *k = race_on(r, "k"), *j = race_on(r, "j");
	assert_non_null(k);
	assert_non_null(j);
	/* sorted by variable name */
	assert_ptr_equal(j, &r->races[0]);
	for (int i = 0; i < 2; i++) {
		const struct report_race *x = i ? k : j;
		assert_string_equal(x->variable.module, "__main__");
		assert_string_equal(x->variable.name, "CACHE");
		assert_string_equal(x->variable.container, "dict");
		assert_string_equal(x->variable.key_type, "str");
		assert_int_equal(x->occurrences, 1);
		assert_int_equal(strlen(x->id), 16);
		assert_int_equal(strspn(x->id, "0123456789abcdef"), 16);
	}
	assert_string_not_equal(k->id, j->id);
	assert_string_equal(k->kind, "write-write");
	check_access(&k->current, "write", T2, "Thread-2 (worker)", l.line_k);
	check_access(&k->previous, "write", T1, "Thread-1 (worker)", l.line_k);
	assert_string_equal(j->kind, "write-read");
	check_access(&j->current, "read", T2, "Thread-2 (worker)", l.line_j);
	check_access(&j->previous, "write", T1, "Thread-1 (worker)", l.line_k);
	analysis_free(a);
}

static void test_analysis_of_trace(void **state)
{
	(void)state;
	analyse_synthetic_trace(TRACE_VERSION);
}

/* A trace of the first format is analysed as before. */
static void test_analysis_of_format_1_trace(void **state)
{
	(void)state;
	analyse_synthetic_trace(TRACE_VERSION_1);
}

/* The trace cut at every byte: no analysis before the target record, then every race whose
 * accesses are complete, a warning and ended_early whenever the final record is missing. */
static void analyse_cut_trace(int version)
{
	char full[256], cut[256];
	path_in_tmp(full, sizeof(full), "synthetic-full.trace");
	path_in_tmp(cut, sizeof(cut), "synthetic-cut.trace");
	struct layout l;
	write_synthetic_trace(full, version, &l);
	size_t size;
	uint8_t *data = read_whole(full, &size);
	assert_int_equal(size, l.size);
	for (size_t len = 0; len <= size; len++) {
		write_whole(cut, data, len);
		char why[512] = "", warning[512] = "";
		struct analysis *a =
		    analysis_of_trace(cut, why, sizeof(why), warning, sizeof(warning));
		if (len < l.target_end) {
			assert_null(a);
			assert_non_null(strstr(why, cut));
			continue;
		}
		if (!a)
			fail_msg("cut at %zu: %s", len, why);
		const struct report *r = analysis_report(a);
		size_t expect = (len >= l.race_k_end) + (len >= l.race_j_end);
		assert_int_equal(r->nraces, expect);
		if (len >= l.race_k_end)
			assert_non_null(race_on(r, "k"));
		if (len >= l.race_j_end)
			assert_non_null(race_on(r, "j"));
		if (len == size) {
			assert_string_equal(warning, "");
			assert_int_equal(r->stats.ended_early, 0);
			assert_int_equal(r->stats.lost_events, 7);
		} else {
			if (warning[0] == '\0')
				fail_msg("cut at %zu of %zu: no warning", len, size);
			if (len == l.stats_start)
				assert_non_null(strstr(warning, "ends before its final record"));
			assert_int_equal(r->stats.ended_early, 1);
			assert_int_equal(r->stats.lost_events, len >= l.lost_end ? 5 : 0);
		}
		analysis_free(a);
	}
	free(data);
}

static void test_analysis_of_cut_trace(void **state)
{
	(void)state;
	analyse_cut_trace(TRACE_VERSION);
	analyse_cut_trace(TRACE_VERSION_1);
}

static void test_analysis_rejects(void **state)
{
	(void)state;
	char path[256], why[512] = "", warning[512] = "";
	/* a trace without a target record */
	path_in_tmp(path, sizeof(path), "no-target.trace");
	struct trace_writer *w = trace_writer_open(path);
	assert_non_null(w);
	assert_int_equal(trace_writer_record(w, TREC_LOST, "\0\0\0\0\0\0\0\0", 8), 0);
	assert_int_equal(trace_writer_close(w), 0);
	assert_null(analysis_of_trace(path, why, sizeof(why), warning, sizeof(warning)));
	assert_non_null(strstr(why, "no target record"));
	/* not a trace */
	path_in_tmp(path, sizeof(path), "not-a-trace");
	write_whole(path, (const uint8_t *)"#!/bin/sh\necho hello world\n", 27);
	why[0] = '\0';
	assert_null(analysis_of_trace(path, why, sizeof(why), warning, sizeof(warning)));
	assert_non_null(strstr(why, "is not a pyrace trace"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_flush_keeps_records),
	    cmocka_unit_test(test_long_trace_reads_back),
	    cmocka_unit_test(test_cut_at_every_byte),
	    cmocka_unit_test(test_bad_magic),
	    cmocka_unit_test(test_bad_magic_last_byte),
	    cmocka_unit_test(test_bad_version_and_byte_order),
	    cmocka_unit_test(test_unreadable_paths),
	    cmocka_unit_test(test_bad_record_length),
	    cmocka_unit_test(test_file_mode),
	    cmocka_unit_test(test_trace_buf),
	    cmocka_unit_test(test_analysis_of_trace),
	    cmocka_unit_test(test_analysis_of_format_1_trace),
	    cmocka_unit_test(test_analysis_of_cut_trace),
	    cmocka_unit_test(test_analysis_rejects),
	};
	return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
