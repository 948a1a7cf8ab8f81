/* pyrace record: trace a command, or a running process, into a self-contained trace file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "record.h"

static void record_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: pyrace record -o FILE [OPTIONS] -- COMMAND [ARGS...]\n"
	    "       pyrace record -o FILE -p PID [-p PID...] [--children] [--duration S] "
	    "[OPTIONS]\n\n"
	    "Runs COMMAND traced (or traces the running process PID, as pyrace attach does) and\n"
	    "writes the trace to FILE (mode 0600). The trace holds everything needed to analyse\n"
	    "it on another machine: pyrace analyze FILE.\n\n"
	    "  -o, --output FILE the trace file (required)\n"
	    "  -p, --pid PID     trace a running process instead of starting a command (may be\n"
	    "                    repeated)\n"
	    "  --children        with -p: also the processes below it, now and to come\n"
	    "  --duration S      with -p: detach after S seconds\n"
	    "  --debug-dir DIR   where build-id debug files live (default /usr/lib/debug)\n"
	    "  --no-reads        record writes and synchronisation only: cheaper, but only\n"
	    "                    write-write races can be found\n"
	    "  --nested-depth N  watch dicts stored in watched dicts N levels deep (default 1)\n"
	    "  --global-reads    also see reads of globals by specialised code (LOAD_GLOBAL):\n"
	    "                    runs the target unspecialised while attached (slower; needs\n"
	    "                    USDT probes, as Debian's python3.11 has)\n"
	    "  -h, --help        this text\n\n"
	    "Exit status: 0 trace written, 1 usage or environment error, 2 the command could\n"
	    "not be traced (it still runs).\n");
	fputs("\n" TRACING_HELP, out);
}

int cmd_record(int argc, char **argv)
{
	static const struct option options[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"pid", required_argument, NULL, 'p'},
	    {"children", no_argument, NULL, 'C'},
	    {"duration", required_argument, NULL, 'D'},
	    RECORD_LONG_OPTIONS,
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *output = NULL;
	struct record_options ro = RECORD_OPTIONS_DEFAULT;
	pid_t pids[PYRACE_MAX_PIDS];
	size_t npids = 0;
	int children = 0;
	double duration = 0;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:p:h", options, NULL)) != -1) {
		char *end = NULL;
		int shared = record_option(&ro, opt, optarg);
		if (shared < 0)
			return EXIT_USAGE;
		if (shared)
			continue;
		switch (opt) {
		case 'o':
			output = optarg;
			break;
		case 'p':
			if (parse_pid(optarg, pids, &npids, "record"))
				return EXIT_USAGE;
			break;
		case 'C':
			children = 1;
			break;
		case 'D':
			duration = strtod(optarg, &end);
			if (!*optarg || *end || duration <= 0) {
				fprintf(stderr, "pyrace record: not a duration in seconds: %s\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			record_usage(stdout);
			return 0;
		default:
			record_usage(stderr);
			return EXIT_USAGE;
		}
	}
	int with_command = optind < argc;
	if (!output || with_command == (npids != 0) || (children && !npids)) {
		fprintf(stderr, "pyrace record: needs -o FILE and either a command or -p PID "
				"(pyrace record -o t.trace -- python3 app.py)\n");
		return EXIT_USAGE;
	}
	if (record_check_privileges())
		return EXIT_USAGE;
	ro.trace_path = output;
	ro.children = children;
	if (npids)
		return record_attach(pids, npids, duration, &ro);
	return record_command(argv + optind, &ro);
}
