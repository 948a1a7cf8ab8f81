/* Struct layouts from DWARF: where a member of a named struct sits, the size of a struct, the
 * value of an enumerator. For builds whose layout no table covers (free-threaded CPython). */
#ifndef PYRACE_DWARF_TYPES_H
#define PYRACE_DWARF_TYPES_H

#include <stdint.h>

#include "dwarf_file.h"

/* Where a member lies inside its outermost struct. */
struct dwarf_member {
	uint64_t byte_offset; /* of the member's storage unit (a bit-field: its first byte) */
	uint64_t bit_offset;  /* of its first bit, counted from the struct's first bit */
	uint64_t bit_size;    /* of a bit-field; else 8 * its type's size */
};

/* The complete definition of struct `type`, named by its typedef ("PyDictObject") or its tag
 * ("_dictkeysobject"), is looked for in every unit until one has it; `path` is a member, or
 * members of nested structs ("state.compact"). 0 when found. */
int dwarf_struct_member(struct dwarf_file *df, const char *type, const char *path,
			struct dwarf_member *out);

/* sizeof of struct `type` (named as above). 0 when found. */
int dwarf_struct_size(struct dwarf_file *df, const char *type, uint64_t *size);

/* The value of enumerator `name` of any enum. 0 when found. */
int dwarf_enumerator(struct dwarf_file *df, const char *name, int64_t *value);

#endif /* PYRACE_DWARF_TYPES_H */
