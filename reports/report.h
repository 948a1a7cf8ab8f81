/* The result of an analysis as plain data; every output format renders this and nothing else. */
#ifndef PYRACE_REPORT_H
#define PYRACE_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PYRACE_VERSION "0.1.0"

struct report_frame {
	const char *file;
	const char *function; /* qualified name */
	int line;	      /* -1 when unknown */
};

struct report_stack {
	const struct report_frame *frames; /* innermost first */
	size_t nframes;
	int truncated; /* deeper than what was captured */
};

struct report_thread {
	uint32_t tid;
	const char *name; /* "MainThread", "Thread-2 (worker)" */
	uint32_t pid;	  /* its process; 0 when unknown */
	/* the process's command line, set only when the report covers several processes */
	const char *process;
};

struct report_access {
	const char *op; /* read, write, delete, pop, setdefault, clear, update, popitem */
	struct report_thread thread;
	const char *const *locks_held; /* names such as "__main__.LOCK" or "lock@0x7f3a1c2b9e40" */
	size_t nlocks;
	struct report_stack stack;
};

struct report_variable {
	const char *module;    /* __name__ of the module owning the global */
	const char *name;      /* the global's name */
	const char *container; /* "dict" (a key of a dict bound to the global) or "global" */
	const char *key;       /* text of the key; NULL for a global, or a whole-dict race */
	const char *key_type;  /* "str", "int", or another type name; NULL when key is NULL */
};

struct report_race {
	char id[17];	  /* 16 hex digits, stable across runs and machines */
	const char *kind; /* write-write, read-write (current is the write), write-read */
	struct report_variable variable;
	struct report_access current, previous;
	uint64_t occurrences;
};

struct report_target {
	int pid;
	const char *const *argv;
	size_t argc;
	const char *python_version;
	const char *executable;
	const char *build;
};

/* One traced process (pyrace attach --children, or several -p). */
struct report_process {
	int pid;
	int ppid; /* the traced process it was forked from, 0 when none */
	const char *const *argv;
	size_t argc;
	const char *executable; /* the interpreter, or the program when not CPython */
};

struct report_stats {
	uint64_t events;
	uint64_t lost_events;
	uint64_t threads;
	uint64_t watched_dicts;
	uint64_t truncated_stacks;
	uint64_t unresolved_frames;
	uint64_t untraced_processes; /* followed processes that were not a supported CPython */
	double duration_s;
	int ended_early; /* the target or the trace ended before the program did */
};

/* One suppression rule and how many races it removed, for the text report's closing lines. */
struct report_suppression {
	const char *type;    /* "race", "race_top" or "global" */
	const char *pattern; /* the glob after the colon */
	const char *file;    /* the suppressions file and line it came from */
	int line;
	uint64_t hits;
};

struct report {
	struct report_target target;
	/* every traced process, when there were several (nprocesses is 0 otherwise) */
	const struct report_process *processes;
	size_t nprocesses;
	struct report_stats stats;
	const struct report_race *races; /* what is left after suppressions and baselines */
	size_t nraces;
	uint64_t suppressed; /* races removed by a suppression */
	uint64_t baselined;  /* races removed because a baseline report already had their id */
	/* every rule loaded (hits 0 when unused); nsuppressions 0 when none was given */
	const struct report_suppression *suppressions;
	size_t nsuppressions;
};

/* `module.NAME['key']`, `module.NAME[3]`, `module.NAME[*]` (whole dict) or `module.NAME`. */
void report_variable_name(const struct report_variable *v, char *buf, size_t len);

/* Computes race->id from the variable and the unordered pair of innermost frames (file base
 * name, function, line), so that ids survive moving the code to another directory or machine. */
void report_race_compute_id(struct report_race *race);

/* The JSON document of ../shared/spec/report.md (schema pyrace-report/1). 0 on success. */
int report_write_json(const struct report *r, FILE *out);

/* ThreadSanitizer-style text: one block per race, then a SUMMARY line per race and a closing
 * line with the counts (and lost events, never hidden). `color` adds ANSI colours. */
void report_write_text(const struct report *r, FILE *out, int color);

/* The text block of one race (from separator to separator), without colours. */
void report_write_race_text(const struct report_race *race, FILE *out);

/* A SARIF 2.1.0 log: one result per race, rule "data-race", both stacks as a code flow (one
 * thread flow per access, outermost frame first) and as stacks (innermost first). 0 on
 * success. */
int report_write_sarif(const struct report *r, FILE *out);

/* A JUnit XML <testsuite name="pyrace">: one failing test case per race, or one passing test
 * case when there is none. 0 on success. */
int report_write_junit(const struct report *r, FILE *out);

#endif
