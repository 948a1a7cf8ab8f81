/* pyrace analyze: report the races in a trace file written by pyrace record. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"

static void analyze_usage(FILE *out)
{
	fprintf(out,
		"usage: pyrace analyze [OPTIONS] TRACE\n\n"
		"Reports the races in TRACE (from pyrace record or pyrace run -o). Needs no\n"
		"privileges and no access to the traced program or its interpreter.\n\n"
		"  --json FILE  also write the JSON report (schema pyrace-report/1); - for stdout\n"
		"  -h, --help   this text\n\n"
		"Exit status: 0 no race, 66 races found, 1 usage error or unreadable trace.\n");
}

int cmd_analyze(int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", required_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *json = NULL;
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = optarg;
			break;
		case 'h':
			analyze_usage(stdout);
			return 0;
		default:
			analyze_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		analyze_usage(stderr);
		return EXIT_USAGE;
	}
	return report_trace(argv[optind], argv[optind], json);
}
