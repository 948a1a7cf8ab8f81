/* Starting a command and stopping it right after it executes a Python interpreter. */
#ifndef PYRACE_LAUNCHER_H
#define PYRACE_LAUNCHER_H

#include <sys/types.h>

#include "interp.h"

enum launch_result {
	LAUNCH_PYTHON,	  /* stopped at the exec of a CPython interpreter: `interp` is filled */
	LAUNCH_EXITED,	  /* the command ended without ever executing CPython */
	LAUNCH_NOT_FOUND, /* the command could not be executed at all */
	LAUNCH_ERROR,
};

struct launch {
	pid_t pid;
	int wait_status; /* for LAUNCH_EXITED */
	int exec_errno;	 /* for LAUNCH_NOT_FOUND */
	enum interp_status interp_status;
	char why[1024]; /* when interp_status is not INTERP_OK */
	struct interp_info interp;
};

/* Forks and runs `argv` under ptrace, following its execs until one is a CPython
 * interpreter. The child is left stopped; call launch_resume() to let it go. */
enum launch_result launch_until_python(char *const argv[], const char *debug_dir,
				       struct launch *out);
/* Lets the stopped child run on, no longer traced. 0 on success. */
int launch_resume(struct launch *l);

#endif
