/* Pieces of the HTML report shared by its files: escaping, source excerpts, race timelines. */
#ifndef PYRACE_HTML_H
#define PYRACE_HTML_H

#include <stdio.h>

#include "report.h"

/* Writes text from the traced program (keys, names, paths, source lines) so that it can only
 * ever be text, in element content and in quoted attribute values alike. NULL prints "?". */
void html_put(FILE *out, const char *s);

/* The lines `context` around `line` of `file` in a <pre>, the line itself marked, or one line
 * saying why they cannot be shown. Only regular files named *.py are read. */
void html_write_excerpt(FILE *out, const char *file, int line, int context);

/* A race's timeline: an SVG with one lane per thread, both accesses and the sync events kept
 * around them, the edges between those events, and notes on what orders the pair or fails to. */
void html_write_timeline(FILE *out, const struct report_race *race);

#endif
