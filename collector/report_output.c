/* Analysing a finished trace and writing its report in the requested formats. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "commands.h"

static int write_json_file(const struct report *r, const char *path)
{
	FILE *f = stdout;
	if (strcmp(path, "-") != 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		f = fd < 0 ? NULL : fdopen(fd, "w");
		if (!f) {
			fprintf(stderr, "pyrace: cannot write %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	int rc = report_write_json(r, f);
	if (f != stdout)
		rc |= fclose(f);
	else
		rc |= fflush(f);
	if (rc)
		fprintf(stderr, "pyrace: writing %s failed\n", path);
	return rc ? -1 : 0;
}

int report_trace(const char *trace_path, const char *display_path, const char *json_path)
{
	char why[512], warning[512];
	struct analysis *a =
	    analysis_of_trace(trace_path, why, sizeof(why), warning, sizeof(warning));
	if (!a) {
		fprintf(stderr, "pyrace: %s\n", why);
		return EXIT_USAGE;
	}
	if (warning[0])
		fprintf(stderr, "pyrace: warning: %s: %s; analysed up to the last complete event\n",
			display_path, warning);
	const struct report *r = analysis_report(a);
	report_write_text(r, stderr, isatty(STDERR_FILENO));
	int rc = r->nraces ? EXIT_RACES : EXIT_NO_RACES;
	if (json_path && write_json_file(r, json_path))
		rc = EXIT_USAGE;
	analysis_free(a);
	return rc;
}
