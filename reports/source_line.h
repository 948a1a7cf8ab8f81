/* Reading one line of a traced program's source file. */
#ifndef PYRACE_SOURCE_LINE_H
#define PYRACE_SOURCE_LINE_H

#include <stddef.h>
#include <stdio.h>

/* Opens a traced program's source file for reading, only if it is a regular *.py file; NULL
 * with the reason in `why` otherwise. */
FILE *report_open_source(const char *file, const char **why);

/* Line `line` (from 1) of `file` without its indentation and newline into buf (cut to fit);
 * -1 when the file is not a readable regular *.py file or has no such line. */
int report_source_line(const char *file, int line, char *buf, size_t len);

#endif
