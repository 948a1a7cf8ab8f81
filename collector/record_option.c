/* The options shared by the commands that record: run, attach and record. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "record.h"

int record_option(struct record_options *ro, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DEBUG_DIR:
		ro->debug_dir = arg;
		return 1;
	case OPT_NO_READS:
		ro->no_reads = 1;
		return 1;
	case OPT_GLOBAL_READS:
		ro->global_reads = 1;
		return 1;
	case OPT_NESTED_DEPTH: {
		char *end;
		long n = strtol(arg, &end, 10);
		if (*arg == '\0' || *end || n < 0 || n > 8) {
			fprintf(stderr, "pyrace: --nested-depth takes 0 to 8, not '%s'\n", arg);
			return -1;
		}
		ro->nested_depth = (int)n;
		return 1;
	}
	default:
		return 0;
	}
}

int record_unnamed_trace(char *path, size_t len)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "pyrace: cannot create a temporary trace in %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}
