/* Starting a command and stopping it right after it executes a Python interpreter. */
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

/* LD_LIBRARY_PATH as the new program sees it: it decides which libpython gets loaded. */
static char *read_ld_library_path(pid_t pid)
{
	char path[64], buf[1 << 16];
	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n; p += strlen(p) + 1)
		if (strncmp(p, "LD_LIBRARY_PATH=", 16) == 0)
			return strdup(p + 16);
	return NULL;
}

static int wait_child(pid_t pid, int *status)
{
	for (;;) {
		if (waitpid(pid, status, __WALL) == pid)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Inspects the program just executed; returns 1 when it is CPython (traceable or not). */
static int exec_is_python(struct launch *out, const char *debug_dir)
{
	char link[64], exe[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/%d/exe", out->pid);
	ssize_t n = readlink(link, exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	char *ld_path = read_ld_library_path(out->pid);
	out->interp_status =
	    interp_inspect(exe, ld_path, debug_dir, &out->interp, out->why, sizeof(out->why));
	free(ld_path);
	return out->interp_status != INTERP_NOT_ELF && out->interp_status != INTERP_NOT_PYTHON;
}

enum launch_result launch_until_python(char *const argv[], const char *debug_dir,
				       struct launch *out)
{
	memset(out, 0, sizeof(*out));
	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC))
		return LAUNCH_ERROR;
	pid_t pid = fork();
	if (pid < 0) {
		close(errpipe[0]);
		close(errpipe[1]);
		return LAUNCH_ERROR;
	}
	if (pid == 0) {
		close(errpipe[0]);
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		execvp(argv[0], argv);
		int e = errno;
		if (write(errpipe[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(errpipe[1]);
	out->pid = pid;
	int status;
	if (wait_child(pid, &status) || !WIFSTOPPED(status)) {
		close(errpipe[0]);
		return LAUNCH_ERROR;
	}
	/* EXITKILL: if pyrace dies during this short window, the command does not run untraced */
	ptrace(PTRACE_SETOPTIONS, pid, NULL,
	       (void *)(long)(PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL));
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	enum launch_result result = LAUNCH_ERROR;
	for (;;) {
		if (wait_child(pid, &status))
			break;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			out->wait_status = status;
			int e = 0;
			if (read(errpipe[0], &e, sizeof(e)) == (ssize_t)sizeof(e)) {
				out->exec_errno = e;
				result = LAUNCH_NOT_FOUND;
			} else {
				result = LAUNCH_EXITED;
			}
			break;
		}
		if (!WIFSTOPPED(status))
			continue;
		if (status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8))) {
			if (exec_is_python(out, debug_dir)) {
				result = LAUNCH_PYTHON;
				break;
			}
			ptrace(PTRACE_CONT, pid, NULL, NULL);
			continue;
		}
		/* a signal meant for the program: hand it over unchanged */
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)WSTOPSIG(status));
	}
	close(errpipe[0]);
	return result;
}

int launch_resume(struct launch *l)
{
	return ptrace(PTRACE_DETACH, l->pid, NULL, NULL) == 0 ? 0 : -1;
}
