/* Walking a running interpreter from outside: its modules and the dicts bound to their globals. */
#ifndef PYRACE_LIVE_WALK_H
#define PYRACE_LIVE_WALK_H

#include <stdint.h>
#include <sys/types.h>

#include "interp.h"

/* Load bias of the interpreter's core file in process `pid` (from /proc/PID/maps). 0 on success. */
int live_core_bias(pid_t pid, const struct interp_info *in, uint64_t *bias);

struct live_walk_visitor {
	void *ctx;
	void (*module)(void *ctx, uint64_t module_dict, const char *name);
	void (*global_dict)(void *ctx, uint64_t dict, uint64_t module_dict, const char *name);
	/* optional: a list or set bound to a global; kind is PYWATCH_GLOBAL_LIST or _SET */
	void (*global_object)(void *ctx, uint64_t obj, uint64_t module_dict, const char *name,
			      int kind);
};

/* Visits every module in sys.modules and every dict bound to one of its globals (names that
 * start with "__" excepted). Only reads the target's memory; entries that change under our feet
 * are skipped. Returns the number of modules visited, or -1 when sys.modules is unreadable. */
int live_walk_modules(pid_t pid, const struct interp_info *in, uint64_t bias,
		      const struct live_walk_visitor *v);

#endif
