/* One line of a traced program's source, for the text report. */
#include "source_line.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int report_source_line(const char *file, int line, char *buf, size_t len)
{
	size_t n = file ? strlen(file) : 0;
	/* file names come from the trace, which may be crafted, and pyrace runs as root: only
	 * regular *.py files are read, never a device or a FIFO that could block */
	if (n < 4 || strcmp(file + n - 3, ".py") != 0 || line < 1 || len < 2)
		return -1;
	int fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	struct stat st;
	FILE *f = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? fdopen(fd, "r") : NULL;
	if (!f) {
		close(fd);
		return -1;
	}
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
