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
	/* where it was started and by whom (NULL: the main thread, or not seen) */
	const char *created_by;
	const struct report_stack *created_at;
};

/* One synchronisation event of a racing thread, for the timeline of a race. */
struct report_sync {
	const char *what;   /* acquire, release, start, begin, join, end, put, get, registry
			       remove, registry insert */
	const char *object; /* a lock name, a thread name, "queue@0x..." */
	uint64_t seq;	    /* position of its event in the trace, from 1 */
	uint64_t ts_ns;	    /* monotonic clock; 0 when the trace has none */
};

struct report_access {
	const char *op; /* read, write, delete, pop, setdefault, clear, update, popitem */
	struct report_thread thread;
	const char *const *locks_held; /* names such as "__main__.LOCK" or "lock@0x7f3a1c2b9e40" */
	size_t nlocks;
	/* where each of locks_held was made (NULL entries, or NULL: not seen) */
	const struct report_stack *const *locks_created;
	struct report_stack stack;
	const char *test; /* pytest node id of the test it happened during, or NULL */
	uint64_t seq;	  /* position of the access's event in the trace, from 1; 0 unknown */
	uint64_t ts_ns;	  /* monotonic clock at the access; 0 unknown */
	/* the thread's last sync events up to the moment the race was seen (the later access of
	 * the pair), oldest first: on the earlier side they may follow its access */
	const struct report_sync *syncs;
	size_t nsyncs;
	uint64_t syncs_not_kept; /* earlier sync events of the thread not in `syncs` */
};

struct report_variable {
	const char *module; /* __name__ of the module owning the global */
	const char *name;   /* the global's name */
	/* "dict" (a key of a dict bound to the global), "global", "list" (a list bound to the
	 * global, one variable) or "set" (an element of a set bound to the global) */
	const char *container;
	const char *key;      /* text of the key; NULL for a global, or a whole-dict race */
	const char *key_type; /* "str", "int", or another type name; NULL when key is NULL */
};

struct report_race {
	char id[17];	  /* 16 hex digits, stable across runs and machines */
	const char *kind; /* write-write, read-write (current is the write), write-read */
	struct report_variable variable;
	struct report_access current, previous;
	uint64_t occurrences;
	int predicted; /* --predict: this run ordered the pair; another schedule need not */
};

/* One edge of a lock-order cycle: a thread acquired `acquired` while it held `held`. */
struct report_lock_edge {
	const char *held, *acquired; /* lock names, as in locks_held */
	struct report_thread thread;
	struct report_stack held_stack;	    /* where `held` was acquired */
	struct report_stack acquired_stack; /* where `acquired` was acquired, `held` held */
};

/* A lock-order inversion: locks taken in a cycle by different threads, so that each could
 * hold one lock of the cycle and wait for the next. */
struct report_deadlock {
	char id[17];		  /* 16 hex digits, stable across runs and machines */
	const char *const *locks; /* the cycle: edges[i] goes from locks[i] to locks[i + 1] */
	size_t nlocks;
	const struct report_lock_edge *edges;
	size_t nedges;	      /* == nlocks */
	uint64_t occurrences; /* times the least taken edge of the cycle was taken */
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
	int no_reads; /* --no-reads: reads were not recorded, only write-write races can be found */
};

/* One suppression rule and how many races or deadlocks it removed, for the text report's closing
 * lines. */
struct report_suppression {
	const char *type;    /* "race", "race_top", "global" or "deadlock" */
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
	const struct report_deadlock *deadlocks; /* likewise */
	size_t ndeadlocks;
	uint64_t suppressed; /* races removed by a suppression */
	uint64_t suppressed_deadlocks;
	uint64_t baselined; /* races removed because a baseline report already had their id */
	/* every rule loaded (hits 0 when unused); nsuppressions 0 when none was given */
	const struct report_suppression *suppressions;
	size_t nsuppressions;
	int source_lines; /* the text report quotes the source line of each innermost frame */
};

/* `module.NAME['key']`, `module.NAME[3]`, `module.NAME[*]` (whole dict) or `module.NAME`. */
void report_variable_name(const struct report_variable *v, char *buf, size_t len);

/* Computes race->id from the variable and the unordered pair of innermost frames (file base
 * name, function, line), so that ids survive moving the code to another directory or machine. */
void report_race_compute_id(struct report_race *race);

/* Computes deadlock->id from the lock names that are names (not addresses) and the innermost
 * frames of both stacks of every edge, whichever lock the cycle is written from. */
void report_deadlock_compute_id(struct report_deadlock *deadlock);

/* "__main__.A => __main__.B => __main__.A" into buf. */
void report_deadlock_cycle(const struct report_deadlock *deadlock, char *buf, size_t len);

/* The JSON document of ../shared/spec/report.md (schema pyrace-report/1). 0 on success. */
int report_write_json(const struct report *r, FILE *out);

/* ThreadSanitizer-style text: one block per race, then a SUMMARY line per race and a closing
 * line with the counts (and lost events, never hidden). `color` adds ANSI colours. */
void report_write_text(const struct report *r, FILE *out, int color);

/* The text block of one race (from separator to separator), without colours. */
void report_write_race_text(const struct report_race *race, FILE *out);

/* The same for one deadlock. */
void report_write_deadlock_text(const struct report_deadlock *deadlock, FILE *out);

/* A SARIF 2.1.0 log: one result per race, rule "data-race", both stacks as a code flow (one
 * thread flow per access, outermost frame first) and as stacks (innermost first). 0 on
 * success. */
int report_write_sarif(const struct report *r, FILE *out);

/* One self-contained HTML page (no script, no network): header, every race with both stacks,
 * source excerpts read now, locks held and a timeline of the two threads. 0 on success. */
int report_write_html(const struct report *r, FILE *out);

/* A JUnit XML <testsuite name="pyrace">: one failing test case per race, or one passing test
 * case when there is none. 0 on success. */
int report_write_junit(const struct report *r, FILE *out);

#endif
