/* Struct offsets of each CPython version pyrace knows: built-in tables, and for 3.13+ what the
 * interpreter publishes in _Py_DebugOffsets. */
#ifndef PYRACE_LAYOUT_H
#define PYRACE_LAYOUT_H

#include "debug_offsets.h"
#include "interp.h"

void layout_for_311(struct interp_info *in);

/* Fills in->layout, in->code and in->threads for 3.13 or 3.14 from `d` where it publishes a
 * field and from the built-in table of in->minor for the rest (docs/interpreters.md §2-§3);
 * records the split in in->layout_from_debug_offsets / in->layout_from_table. -1 for other
 * versions. */
int layout_for_313_314(struct interp_info *in, const struct py_debug_offsets *d);

struct dwarf_file;

/* The same for a build no table describes (free-threaded: a bigger object header moves every
 * object's fields): what _Py_DebugOffsets leaves out is read from the build's DWARF, by the
 * C names of the members. -1 with the members not found listed in `missing`. */
int layout_from_dwarf(struct interp_info *in, const struct py_debug_offsets *d,
		      struct dwarf_file *df, char *missing, size_t len);

#endif /* PYRACE_LAYOUT_H */
