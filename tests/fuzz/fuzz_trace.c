/* libFuzzer target: arbitrary bytes as a trace file, analysed and rendered in every format.
 * Checks what must hold whatever the trace says: the JSON and SARIF documents parse with the
 * strict reader, the text has no raw control character (but ESC for colours, newlines), and the
 * report model hands no NULL argument string to the renderers. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "analysis.h"
#include "json_read.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int trace_fd = -1;
static char trace_path[64];
static FILE *devnull;

static void setup(void)
{
	trace_fd = memfd_create("pyrace-fuzz-trace", MFD_CLOEXEC);
	if (trace_fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(trace_path, sizeof(trace_path), "/proc/self/fd/%d", trace_fd);
	devnull = fopen("/dev/null", "w");
	if (!devnull) {
		perror("/dev/null");
		abort();
	}
}

/* Replaces the content of the memfd with data[0..size). */
static void store(const uint8_t *data, size_t size)
{
	if (ftruncate(trace_fd, 0) != 0)
		abort();
	for (size_t done = 0; done < size;) {
		ssize_t n = pwrite(trace_fd, data + done, size - done, (off_t)done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
}

enum format { FORMAT_JSON, FORMAT_SARIF, FORMAT_TEXT, FORMAT_TEXT_COLOR };

/* Renders the report into memory; returns the malloc'd document and its length in *len. */
static char *render(const struct report *r, enum format f, size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);

	if (!m)
		abort();
	switch (f) {
	case FORMAT_JSON:
		if (report_write_json(r, m) != 0)
			abort();
		break;
	case FORMAT_SARIF:
		if (report_write_sarif(r, m) != 0)
			abort();
		break;
	case FORMAT_TEXT:
	case FORMAT_TEXT_COLOR:
		report_write_text(r, m, f == FORMAT_TEXT_COLOR);
		break;
	}
	if (fclose(m) != 0)
		abort();
	return buf;
}

static void check_json(const struct report *r, enum format f, const char *name)
{
	char err[256];
	size_t len;
	char *doc = render(r, f, &len);
	struct json_value *v = json_parse(doc, len, NULL, err, sizeof(err));

	if (!v) {
		fprintf(stderr, "%s output does not parse: %s\n", name, err);
		abort();
	}
	json_free(v);
	free(doc);
}

static void check_text(const struct report *r, enum format f)
{
	size_t len;
	char *doc = render(r, f, &len);

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)doc[i];
		if ((c < 0x20 && c != '\n' && !(c == 0x1b && f == FORMAT_TEXT_COLOR)) ||
		    c == 0x7f) {
			fprintf(stderr, "text output has control character 0x%02x at byte %zu\n", c,
				i);
			abort();
		}
	}
	free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512], warning[512];

	if (trace_fd < 0)
		setup();
	store(data, size);
	struct analysis *a =
	    analysis_of_trace(trace_path, why, sizeof(why), warning, sizeof(warning));
	if (!a)
		return 0;
	const struct report *r = analysis_report(a);
	for (size_t i = 0; i < r->target.argc; i++)
		if (!r->target.argv || !r->target.argv[i])
			abort();
	check_json(r, FORMAT_JSON, "JSON");
	check_json(r, FORMAT_SARIF, "SARIF");
	check_text(r, size & 1 ? FORMAT_TEXT_COLOR : FORMAT_TEXT);
	report_write_junit(r, devnull);
	fflush(devnull);
	analysis_free(a);
	return 0;
}
