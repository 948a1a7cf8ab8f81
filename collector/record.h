/* Tracing one command from its start into a trace file. */
#ifndef PYRACE_RECORD_H
#define PYRACE_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "consumer.h"
#include "interp.h"
#include "probes.h"
#include "trace_io.h"

/* What recording leaves out or adds; RECORD_OPTIONS_DEFAULT for the defaults. */
struct record_options {
	const char *trace_path;
	const char *debug_dir;
	int no_reads;	  /* --no-reads: writes and synchronisation only */
	int nested_depth; /* --nested-depth N (default 1) */
	int global_reads; /* --global-reads: LOAD_GLOBAL unspecialised, through the line semaphore
			   */
	int children;	  /* attach: follow every process the targets fork or execute */
};

#define RECORD_OPTIONS_DEFAULT                                                                     \
	{                                                                                          \
		.debug_dir = "/usr/lib/debug", .nested_depth = 1                                   \
	}

/* Runs `argv` traced and writes the trace. Returns 0 when a trace was written, otherwise the
 * pyrace exit status (1: usage or environment, 2: the target could not be traced) after one
 * line on stderr. The command always runs to its end. */
int record_command(char *const argv[], const struct record_options *opts);

/* Traces the running processes `pids` (pyrace attach / record -p) until `duration_s` seconds
 * have passed (0: no limit), SIGINT or SIGTERM, or every traced process has ended; then
 * detaches, leaving nothing of pyrace in the processes or the kernel. Returns like
 * record_command(). */
int record_attach(const pid_t *pids, size_t npids, double duration_s,
		  const struct record_options *opts);

/* Shared by both: the TREC_TARGET record, and the end of a trace (drain the ring buffer,
 * counters, detach, TREC_STATS, close). record_finish returns 0 or 1 (write error). */
void record_write_target(struct trace_writer *w, pid_t pid, const struct interp_info *in,
			 char *const argv[]);
/* TREC_PROCESS: address space `number` is process `pid`, forked from `ppid` (0: none). */
void record_write_process(struct trace_writer *w, uint16_t number, pid_t pid, pid_t ppid,
			  const char *executable, char *const argv[]);
int record_finish(struct consumer *c, struct probes *const *probes, size_t nprobes,
		  struct trace_writer *w, struct trace_stats *stats, double start,
		  const char *path);
double record_now(void);

/* Options that exclude each other: one line on stderr and 1, else 0. */
int record_check_modes(const struct record_options *opts);

/* Checks that BPF programs can be loaded here; prints one line and returns 1 if not. */
int record_check_privileges(void);

#endif
