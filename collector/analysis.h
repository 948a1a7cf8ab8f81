/* Analysing a trace file: records in, a report (plain data for the renderers) out. */
#ifndef PYRACE_ANALYSIS_H
#define PYRACE_ANALYSIS_H

#include <stddef.h>

#include "report.h"

struct analysis;

/* Reads and analyses a whole trace. Returns NULL with one line in `why` when the file cannot be
 * analysed at all. A truncated or corrupt tail is analysed up to its last complete record, and
 * `warning` (empty otherwise) says where it stopped. */
struct analysis *analysis_of_trace(const char *path, char *why, size_t whylen, char *warning,
				   size_t warnlen);
/* The same with --predict: races by weak causal precedence (collector/wcp.h). */
struct analysis *analysis_of_trace_mode(const char *path, int predict, char *why, size_t whylen,
					char *warning, size_t warnlen);
const struct report *analysis_report(const struct analysis *a);
void analysis_free(struct analysis *a);

#endif
