/* The processes below some others, as /proc shows them now. */
#include "descendants.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parent pid from /proc/PID/stat: "pid (comm) state ppid ...", where comm may hold spaces
 * and parentheses, so the fields are counted from the last ')'. */
static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *close = strrchr(buf, ')');
	int ppid;
	char state;
	if (!close || sscanf(close + 1, " %c %d", &state, &ppid) != 2)
		return -1;
	return ppid;
}

static int listed(const pid_t *roots, size_t nroots, const struct descendant *found, size_t nfound,
		  pid_t pid)
{
	for (size_t i = 0; i < nroots; i++)
		if (roots[i] == pid)
			return 1;
	for (size_t i = 0; i < nfound; i++)
		if (found[i].pid == pid)
			return 1;
	return 0;
}

size_t proc_descendants(const pid_t *roots, size_t nroots, struct descendant **out)
{
	*out = NULL;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	struct descendant *all = NULL;
	size_t nall = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		pid_t ppid = parent_of(pid);
		if (ppid <= 0)
			continue;
		if (nall == cap) {
			cap = cap ? cap * 2 : 256;
			struct descendant *grown = realloc(all, cap * sizeof(*grown));
			if (!grown)
				break;
			all = grown;
		}
		all[nall++] = (struct descendant){pid, ppid};
	}
	closedir(d);
	/* in passes from the roots: a parent is always listed before its children */
	struct descendant *found = malloc((nall ? nall : 1) * sizeof(*found));
	size_t nfound = 0;
	for (size_t added = 1; found && added;) {
		added = 0;
		for (size_t i = 0; i < nall; i++) {
			if (listed(roots, nroots, found, nfound, all[i].pid) ||
			    !listed(roots, nroots, found, nfound, all[i].parent))
				continue;
			found[nfound++] = all[i];
			added++;
		}
	}
	free(all);
	if (!nfound) {
		free(found);
		found = NULL;
	}
	*out = found;
	return nfound;
}
