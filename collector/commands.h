/* The pyrace subcommands; each lives in its own cmd_*.c file. */
#ifndef PYRACE_COMMANDS_H
#define PYRACE_COMMANDS_H

/* Exit statuses, documented in README.md and ../shared/spec/report.md. */
enum {
	EXIT_NO_RACES = 0,
	EXIT_USAGE = 1,	      /* usage or environment error */
	EXIT_UNTRACEABLE = 2, /* the target could not be traced */
	EXIT_RACES = 66,
};

int cmd_run(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_attach(int argc, char **argv);

/* Analyses a trace, prints the text report on stderr, writes JSON when `json_path` is set,
 * and returns the exit status (0, 66, or 1 when the trace cannot be read). */
int report_trace(const char *trace_path, const char *display_path, const char *json_path);

#endif
