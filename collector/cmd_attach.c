/* pyrace attach: trace a running Python process for a while, detach, report. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "record.h"

static void attach_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: pyrace attach -p PID [-p PID...] [--children] [OPTIONS]\n\n"
	    "Attaches to running CPython 3.11 or 3.13 processes, traces them until Ctrl-C\n"
	    "(SIGINT), SIGTERM, the deadline or the end of every traced process, detaches\n"
	    "(leaving nothing behind in the processes or the kernel) and prints the races found\n"
	    "on stderr. The processes are not restarted or written to. Races are reported within\n"
	    "each process, never across.\n\n"
	    "  -p, --pid PID        a process to trace (may be repeated)\n"
	    "  --children           also trace the processes below them: those that exist now,\n"
	    "                       those they fork and the Python programs they execute (each\n"
	    "                       new one held for a moment while pyrace attaches to it)\n"
	    "  --duration S         detach after S seconds\n"
	    "  -o, --output FILE    keep the trace in FILE (for pyrace analyze)\n"
	    "  --debug-dir DIR      where build-id debug files live (default "
	    "/usr/lib/debug)\n" NO_READS_HELP GLOBAL_READS_HELP);
	fputs(OUTPUT_OPTIONS_HELP, out);
	fprintf(out,
		"  -h, --help           this text\n\n"
		"Exit status: 0 no race (none left after suppressions and baselines), 66 races or\n"
		"potential deadlocks found, 1 usage or environment error (no such process, not\n"
		"permitted), 2 the process could not be traced (not CPython, ...).\n");
	fputs("\n" TRACING_HELP, out);
}

static int attach(int argc, char **argv, struct output_options *out)
{
	static const struct option options[] = {
	    {"pid", required_argument, NULL, 'p'},	{"children", no_argument, NULL, 'C'},
	    {"duration", required_argument, NULL, 'D'}, OUTPUT_LONG_OPTIONS,
	    {"output", required_argument, NULL, 'o'},	RECORD_LONG_OPTIONS,
	    {"help", no_argument, NULL, 'h'},		{0},
	};
	const char *output = NULL;
	struct record_options ro = RECORD_OPTIONS_DEFAULT;
	pid_t pids[PYRACE_MAX_PIDS];
	size_t npids = 0;
	int children = 0;
	double duration = 0;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:o:h", options, NULL)) != -1) {
		char *end = NULL;
		int shared = output_option(out, opt, optarg);
		if (!shared)
			shared = record_option(&ro, opt, optarg);
		if (shared < 0)
			return EXIT_USAGE;
		if (shared)
			continue;
		switch (opt) {
		case 'p':
			if (parse_pid(optarg, pids, &npids, "attach"))
				return EXIT_USAGE;
			break;
		case 'C':
			children = 1;
			break;
		case 'D':
			duration = strtod(optarg, &end);
			if (!*optarg || *end || duration <= 0) {
				fprintf(stderr, "pyrace attach: not a duration in seconds: %s\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			attach_usage(stdout);
			return 0;
		default:
			attach_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!npids || optind != argc) {
		fprintf(stderr, "pyrace attach: needs -p PID (pyrace attach -p 4242)\n");
		return EXIT_USAGE;
	}
	if (record_check_privileges())
		return EXIT_USAGE;
	char path[64];
	int tmp_fd = -1;
	if (!output) {
		tmp_fd = record_unnamed_trace(path, sizeof(path));
		if (tmp_fd < 0)
			return EXIT_USAGE;
		output = path;
	}
	ro.trace_path = output;
	ro.children = children;
	int rc = record_attach(pids, npids, duration, &ro);
	if (rc == 0)
		rc = report_trace(output, tmp_fd >= 0 ? "trace" : output, out);
	if (tmp_fd >= 0)
		close(tmp_fd);
	return rc;
}

int cmd_attach(int argc, char **argv)
{
	struct output_options out = {0};
	int rc = attach(argc, argv, &out);
	output_options_free(&out);
	return rc;
}
