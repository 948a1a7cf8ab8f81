/* Parsing -p PID for the commands that trace running processes. */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"

int parse_pid(const char *arg, pid_t *pids, size_t *npids, const char *command)
{
	char *end = NULL;
	long pid = strtol(arg, &end, 10);
	if (!*arg || *end || pid <= 0 || pid > 0x7fffffff) {
		fprintf(stderr, "pyrace %s: not a process id: %s\n", command, arg);
		return 1;
	}
	if (*npids == PYRACE_MAX_PIDS) {
		fprintf(stderr, "pyrace %s: at most %d processes (-p)\n", command, PYRACE_MAX_PIDS);
		return 1;
	}
	pids[(*npids)++] = (pid_t)pid;
	return 0;
}
