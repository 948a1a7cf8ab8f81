/* pyrace analyze: report the races in a trace file written by pyrace record. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"

static void analyze_usage(FILE *out)
{
	fprintf(out, "usage: pyrace analyze [OPTIONS] TRACE\n\n"
		     "Reports the races in TRACE (from pyrace record or pyrace run -o). Needs no\n"
		     "privileges and no access to the traced program or its interpreter.\n\n");
	fputs(OUTPUT_OPTIONS_HELP, out);
	fprintf(out,
		"  -h, --help           this text\n\n"
		"Exit status: 0 no race (none left after suppressions and baselines), 66 races\n"
		"or potential deadlocks found, 1 usage error or unreadable trace.\n");
}

static int analyze(int argc, char **argv, struct output_options *out)
{
	static const struct option options[] = {
	    OUTPUT_LONG_OPTIONS,
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		int shared = output_option(out, opt, optarg);
		if (shared < 0)
			return EXIT_USAGE;
		if (shared)
			continue;
		switch (opt) {
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
	return report_trace(argv[optind], argv[optind], out);
}

int cmd_analyze(int argc, char **argv)
{
	struct output_options out = {0};
	int rc = analyze(argc, argv, &out);
	output_options_free(&out);
	return rc;
}
