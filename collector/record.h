/* Tracing one command from its start into a trace file. */
#ifndef PYRACE_RECORD_H
#define PYRACE_RECORD_H

struct record_options {
	const char *trace_path;
	const char *debug_dir;
};

/* Runs `argv` traced and writes the trace. Returns 0 when a trace was written, otherwise the
 * pyrace exit status (1: usage or environment, 2: the target could not be traced) after one
 * line on stderr. The command always runs to its end. */
int record_command(char *const argv[], const struct record_options *opts);

/* Checks that BPF programs can be loaded here; prints one line and returns 1 if not. */
int record_check_privileges(void);

#endif
