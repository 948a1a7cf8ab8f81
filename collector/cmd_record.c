/* pyrace record: trace a command into a self-contained trace file. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "record.h"

static void record_usage(FILE *out)
{
	fprintf(out,
		"usage: pyrace record -o FILE [OPTIONS] -- COMMAND [ARGS...]\n\n"
		"Runs COMMAND traced and writes the trace to FILE (mode 0600). The trace holds\n"
		"everything needed to analyse it on another machine: pyrace analyze FILE.\n\n"
		"  -o, --output FILE the trace file (required)\n"
		"  --debug-dir DIR   where build-id debug files live (default /usr/lib/debug)\n"
		"  -h, --help        this text\n\n"
		"Exit status: 0 trace written, 1 usage or environment error, 2 the command could\n"
		"not be traced (it still runs).\n");
}

int cmd_record(int argc, char **argv)
{
	static const struct option options[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"debug-dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *output = NULL, *debug_dir = "/usr/lib/debug";
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:h", options, NULL)) != -1) {
		switch (opt) {
		case 'o':
			output = optarg;
			break;
		case 'd':
			debug_dir = optarg;
			break;
		case 'h':
			record_usage(stdout);
			return 0;
		default:
			record_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!output || optind >= argc) {
		fprintf(stderr, "pyrace record: needs -o FILE and a command "
				"(pyrace record -o t.trace -- python3 app.py)\n");
		return EXIT_USAGE;
	}
	if (record_check_privileges())
		return EXIT_USAGE;
	struct record_options ro = {.trace_path = output, .debug_dir = debug_dir};
	return record_command(argv + optind, &ro);
}
