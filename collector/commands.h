/* The pyrace subcommands; each lives in its own cmd_*.c file. */
#ifndef PYRACE_COMMANDS_H
#define PYRACE_COMMANDS_H

#include <stddef.h>
#include <sys/types.h>

#include "baseline.h"
#include "suppressions.h"

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
int cmd_diff(int argc, char **argv);

/* What to do with a report, shared by every command that reports (run, attach, analyze). */
struct output_options {
	/* files to write, "-" for stdout; NULL for none */
	const char *json, *sarif, *junit, *html;
	struct suppressions suppressions; /* from every --suppressions FILE, in order */
	struct baseline baseline;	  /* the races of every --baseline OLD.json */
	int redact_keys;		  /* dict keys become stable hashes in every output */
	int predict;			  /* --predict: weak causal precedence */
};

/* getopt_long values of the shared options (above any short option character). */
enum {
	OPT_JSON = 0x100,
	OPT_SARIF,
	OPT_JUNIT,
	OPT_SUPPRESSIONS,
	OPT_BASELINE,
	OPT_REDACT_KEYS,
	OPT_HTML,
	OPT_PREDICT,
};

/* Entries of a struct option array (follow it with a comma). */
#define OUTPUT_LONG_OPTIONS                                                                        \
	{"json", required_argument, NULL, OPT_JSON},                                               \
	    {"sarif", required_argument, NULL, OPT_SARIF},                                         \
	    {"junit", required_argument, NULL, OPT_JUNIT},                                         \
	    {"html", required_argument, NULL, OPT_HTML},                                           \
	    {"suppressions", required_argument, NULL, OPT_SUPPRESSIONS},                           \
	    {"redact-keys", no_argument, NULL, OPT_REDACT_KEYS},                                   \
	    {"predict", no_argument, NULL, OPT_PREDICT},                                           \
	{                                                                                          \
		"baseline", required_argument, NULL, OPT_BASELINE                                  \
	}

/* Options of the commands that record (run, attach, record), read by record_option(). */
#define OPT_DEBUG_DIR	 0x4444
#define OPT_NO_READS	 0x4e52
#define OPT_NESTED_DEPTH 0x4e44
/* --global-reads (CPython 3.11 with USDT probes) */
#define OPT_GLOBAL_READS 0x4752
#define GLOBAL_READS_HELP                                                                          \
	"  --global-reads       also see reads of globals by specialised code (LOAD_GLOBAL):\n"    \
	"                       runs the target unspecialised while attached (slower; needs an\n"  \
	"                       interpreter with USDT probes, such as Debian's python3.11)\n"
#define NO_READS_HELP                                                                              \
	"  --no-reads           record writes and synchronisation only: cheaper, but only\n"       \
	"                       write-write races can be found\n"                                  \
	"  --nested-depth N     watch dicts stored in watched dicts N levels deep (default 1:\n"   \
	"                       CACHE['a']['b']; 0: only dicts bound to globals)\n"

#define OUTPUT_OPTIONS_HELP                                                                        \
	"  --json FILE          also write the JSON report (schema pyrace-report/1); - for "       \
	"stdout\n"                                                                                 \
	"  --sarif FILE         also write a SARIF 2.1.0 log, one result per race\n"               \
	"  --junit FILE         also write a JUnit XML test suite, one failure per race\n"         \
	"  --html FILE          also write one self-contained HTML page: stacks with source,\n"    \
	"                       locks and a timeline of the two threads for every race\n"          \
	"  --suppressions FILE  leave out the races and deadlocks that FILE's rules match\n"       \
	"                       (race:GLOB, race_top:GLOB, global:GLOB, deadlock:GLOB); may be\n"  \
	"                       repeated\n"                                                        \
	"  --baseline OLD.json  leave out the races already in an earlier --json report, so\n"     \
	"                       that only new races fail; may be repeated\n"                       \
	"  --redact-keys        show dict keys as stable hashes (h:...) in every output: keys\n"   \
	"                       can be tokens or user ids\n"                                       \
	"  --predict            also report the races another schedule of the same run can\n"      \
	"                       show (weak causal precedence; marked predicted)\n"

/* The environment of the tracing commands (run, attach, record), and the live status line. */
#define TRACING_HELP                                                                               \
	"While tracing, a one-line status (events/s, threads, watched dicts, lost events) is\n"    \
	"refreshed on stderr when it is a terminal.\n\n"                                           \
	"Environment:\n"                                                                           \
	"  PYRACE_RING_SIZE          bytes of the event ring buffer, a power of two (default\n"    \
	"                            16777216); larger loses fewer events under load\n"            \
	"  PYRACE_CONSUMER_DELAY_MS  sleep before each read of the ring buffer (tests of\n"        \
	"                            lost events)\n"                                               \
	"  TMPDIR                    run, attach: where the unnamed trace goes (default /tmp)\n"

/* Handles one of OUTPUT_LONG_OPTIONS: 1 when `opt` is one of them, 0 when it is not, -1 after
 * one line on stderr when its file cannot be used (suppressions and baselines are read here,
 * before anything is traced, so that a mistake in them costs no run). */
int output_option(struct output_options *o, int opt, const char *arg);

/* -p PID, which may be given several times (attach, record). */
#define PYRACE_MAX_PIDS 64
/* Appends `arg` to `pids`; 0, or 1 after one line on stderr naming `command`. */
int parse_pid(const char *arg, pid_t *pids, size_t *npids, const char *command);
void output_options_free(struct output_options *o);

/* Analyses a trace, leaves out suppressed and baselined races (and suppressed deadlocks), prints
 * the text report on stderr, writes every requested file, and returns the exit status (0, 66
 * when a race or a potential deadlock is left, or 1 when the trace cannot be read or a file
 * cannot be written). The one place that applies
 * suppressions and baselines and renders every format. */
int report_trace(const char *trace_path, const char *display_path, struct output_options *o);

/* Entries of a struct option array (follow it with a comma). */
#define RECORD_LONG_OPTIONS                                                                        \
	{"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},                                     \
	    {"no-reads", no_argument, NULL, OPT_NO_READS},                                         \
	    {"global-reads", no_argument, NULL, OPT_GLOBAL_READS},                                 \
	{                                                                                          \
		"nested-depth", required_argument, NULL, OPT_NESTED_DEPTH                          \
	}

struct record_options;
/* Handles one of RECORD_LONG_OPTIONS: 1 when `opt` is one of them, 0 when it is not, -1 after
 * one line on stderr when its value is wrong. */
int record_option(struct record_options *ro, int opt, const char *arg);
/* An unnamed trace file in $TMPDIR (nothing is left behind, whatever happens to us), its
 * /proc/self/fd path in `path`; the fd, or -1 after one line on stderr. */
int record_unnamed_trace(char *path, size_t len);

#endif
