/* Which functions pyrace probes in each CPython version, and what it reads from them. */
#ifndef PYRACE_PROBE_TABLES_H
#define PYRACE_PROBE_TABLES_H

#include <stddef.h>

enum probe_module {
	PROBE_IN_CORE,	/* the executable or libpython */
	PROBE_IN_QUEUE, /* the _queue extension module */
};

/* One uprobe: BPF program `program` on function `function`. */
struct probe_spec {
	const char *program;
	const char *function;
	int is_return;
	enum probe_module module;
	const char *event_class; /* what is missing when the probe is */
	/* the parameters the program reads, by their DWARF names, space-separated */
	const char *args;
};

/* 1 when some builds inline `spec`'s function away and another row of the table sees the same
 * operation there: its absence is not a missing probe. */
int probe_spec_optional(const struct probe_spec *spec);

/* An operation pyrace cannot see (or sees only in part) because the interpreter does it inline,
 * with no function to probe: what doctor lists as present but not visible. */
struct unseen_op {
	const char *event_class;
	const char *operation;
	const char *why;
};

/* Inlined copies of `function` outside probed callers are probed too (with `within` set, only
 * those inside a function whose name starts with one of its '|'-separated prefixes): program
 * `entry` where each starts (its arguments from the copy's parameters, as the function's spec
 * names them), and when `exit` is set, that program where the caller's variable `result` (a
 * register there) first holds the copy's result, right after the copy's code. When the copy's
 * arguments are optimised out where it starts, program `via_callable` runs there instead,
 * given the caller's variable `callable`: the builtin method object being called, whose m_self
 * the function received as its first argument. */
struct inline_spec {
	const char *function;
	const char *entry;
	const char *exit;
	const char *result;
	const char *callable;
	const char *via_callable;
	const char *within;
};

struct probe_table {
	unsigned major, minor;
	const struct probe_spec *specs;
	size_t count;
	/* probe every clone of a function, not only the best-named one: 3.14 calls both
	 * dict_dict_merge.constprop.0.isra.0 and .constprop.1.isra.0 */
	int all_clones;
	const struct inline_spec *inlines;
	size_t ninlines;
};

/* The 3.11 table: what `pyrace run` attaches. */
extern const struct probe_spec probe_specs[];
extern const size_t probe_spec_count;

/* The operations a version does inline, for doctor; *count is set (0 when none are known). */
const struct unseen_op *unseen_ops_for(unsigned major, unsigned minor, size_t *count);
/* The same for the build: the free-threaded one specialises nothing. */
const struct unseen_op *unseen_ops_for_build(unsigned major, unsigned minor, int free_threaded,
					     size_t *count);
/* How `t` probes inlined copies of `function`, or NULL when it leaves them alone. */
const struct inline_spec *probe_table_inline(const struct probe_table *t, const char *function);

/* The table for a version, or NULL when pyrace knows none. */
const struct probe_table *probe_table_for(unsigned major, unsigned minor);
/* The same for a build flavour: free-threaded builds have tables of their own. */
const struct probe_table *probe_table_for_build(unsigned major, unsigned minor, int free_threaded);

#endif /* PYRACE_PROBE_TABLES_H */
