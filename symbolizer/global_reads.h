/* --global-reads: making reads of globals by specialised code visible (CPython 3.11, USDT). */
#ifndef PYRACE_GLOBAL_READS_H
#define PYRACE_GLOBAL_READS_H

#include <stddef.h>

#include "interp.h"

/* Turns the mode on for `in`: finds the `python:line` USDT probe and its semaphore in the
 * interpreter's core file. -1 with one line in `why` when the interpreter cannot do it. */
int interp_enable_global_reads(struct interp_info *in, char *why, size_t whylen);

#endif
