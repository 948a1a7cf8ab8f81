/* Reading a traced program's source files, for the text and HTML reports. */
#include "source_line.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *report_open_source(const char *file, const char **why)
{
	size_t n = file ? strlen(file) : 0;
	/* File names come from the traced program or from a trace file that may have been made
	 * to look like one: reading anything but Python source into a report, perhaps as root,
	 * could copy secrets such as /etc/shadow into it */
	if (n < 4 || strcmp(file + n - 3, ".py") != 0) {
		*why = "not a .py file";
		return NULL;
	}
	/* and a FIFO or a device must not block or be consumed */
	int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return NULL;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		*why = strerror(errno);
		close(fd);
	}
	return f;
}

int report_source_line(const char *file, int line, char *buf, size_t len)
{
	const char *why;
	if (line < 1 || len < 2)
		return -1;
	FILE *f = report_open_source(file, &why);
	if (!f)
		return -1;
	int at = 1, c;
	size_t used = 0;
	while ((c = getc(f)) != EOF) {
		if (at == line) {
			if (c == '\n')
				break;
			/* the indentation says nothing on its own */
			if (used == 0 && (c == ' ' || c == '\t'))
				continue;
			if (used + 1 < len)
				buf[used++] = (char)c;
		} else if (c == '\n' && ++at > line) {
			break;
		}
	}
	fclose(f);
	if (at != line)
		return -1;
	buf[used] = '\0';
	return 0;
}
