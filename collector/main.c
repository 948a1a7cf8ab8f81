/* pyrace: find data races in Python programs by tracing the CPython interpreter with eBPF. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "report.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "trace a command to its end and report the races found"},
    {"attach", cmd_attach, "trace a running process for a while, detach, report"},
    {"record", cmd_record, "trace a command into a trace file"},
    {"analyze", cmd_analyze, "report the races in a trace file"},
    {"doctor", cmd_doctor, "check the kernel and an interpreter, probe by probe"},
    {"diff", cmd_diff, "compare two JSON reports: new races, gone races"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: pyrace COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n  -h, --help   this text\n  --version    print pyrace's version\n\n"
		     "'pyrace COMMAND --help' describes a command's options; man pyrace has it "
		     "all.\n"
		     "Exit status: 0 no race, 66 races or potential deadlocks found, 1 usage or\n"
		     "environment error, 2 the target could not be traced.\n"
		     "Environment: PYRACE_RING_SIZE, PYRACE_CONSUMER_DELAY_MS (see pyrace run "
		     "--help).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("pyrace %s\n", PYRACE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "pyrace: unknown command '%s' (see pyrace --help)\n", argv[1]);
	return EXIT_USAGE;
}
