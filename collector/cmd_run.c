/* pyrace run: trace a command to its end, then report. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "record.h"

static void run_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: pyrace run [OPTIONS] -- COMMAND [ARGS...]\n\n"
	    "Runs COMMAND (a CPython 3.11 or 3.13 interpreter, or anything that executes one),\n"
	    "traces it to its end and prints the races found on stderr.\n\n"
	    "  -o, --output FILE    keep the trace in FILE (for pyrace analyze)\n"
	    "  --debug-dir DIR      where build-id debug files live (default "
	    "/usr/lib/debug)\n" NO_READS_HELP GLOBAL_READS_HELP);
	fputs(OUTPUT_OPTIONS_HELP, out);
	fprintf(
	    out,
	    "  -h, --help           this text\n\n"
	    "Exit status: 0 no race (none left after suppressions and baselines), 66 races or\n"
	    "potential deadlocks found, 1 usage or environment error, 2 the command could not be\n"
	    "traced (it still runs).\n");
	fputs("\n" TRACING_HELP, out);
}

static int run(int argc, char **argv, struct output_options *out)
{
	static const struct option options[] = {
	    OUTPUT_LONG_OPTIONS,
	    {"output", required_argument, NULL, 'o'},
	    RECORD_LONG_OPTIONS,
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *output = NULL;
	struct record_options ro = RECORD_OPTIONS_DEFAULT;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:h", options, NULL)) != -1) {
		int shared = output_option(out, opt, optarg);
		if (!shared)
			shared = record_option(&ro, opt, optarg);
		if (shared < 0)
			return EXIT_USAGE;
		if (shared)
			continue;
		switch (opt) {
		case 'o':
			output = optarg;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			run_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "pyrace run: no command given (pyrace run -- python3 app.py)\n");
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
	int rc = record_command(argv + optind, &ro);
	if (rc == 0)
		rc = report_trace(output, tmp_fd >= 0 ? "trace" : output, out);
	if (tmp_fd >= 0)
		close(tmp_fd);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct output_options out = {0};
	int rc = run(argc, argv, &out);
	output_options_free(&out);
	return rc;
}
