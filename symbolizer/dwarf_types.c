/* Struct layouts from DWARF: member offsets, struct sizes, enumerator values. */
#include "dwarf_types.h"

#include <dwarf.h>
#include <string.h>

/* Follows typedefs and qualifiers to the type they name. */
static int strip_type(Dwarf_Die *die, Dwarf_Die *out)
{
	*out = *die;
	for (int hops = 0; hops < 16; hops++) {
		int tag = dwarf_tag(out);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type && tag != DW_TAG_atomic_type)
			return 0;
		Dwarf_Attribute attr;
		if (!dwarf_attr(out, DW_AT_type, &attr) || !dwarf_formref_die(&attr, out))
			return -1;
	}
	return -1;
}

static int is_complete_struct(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	return dwarf_tag(die) == DW_TAG_structure_type && !dwarf_hasattr(die, DW_AT_declaration) &&
	       dwarf_attr(die, DW_AT_byte_size, &attr) != NULL;
}

/* The complete struct named `type` (typedef or tag) among the top-level DIEs of a unit. */
static int struct_in_unit(Dwarf_Die *cu, const char *type, Dwarf_Die *out)
{
	Dwarf_Die child;
	if (dwarf_child(cu, &child) != 0)
		return -1;
	do {
		int tag = dwarf_tag(&child);
		if (tag != DW_TAG_typedef && tag != DW_TAG_structure_type)
			continue;
		const char *name = dwarf_diename(&child);
		if (!name || strcmp(name, type) != 0)
			continue;
		Dwarf_Die target;
		if (strip_type(&child, &target) == 0 && is_complete_struct(&target)) {
			*out = target;
			return 0;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return -1;
}

static int find_struct(struct dwarf_file *df, const char *type, Dwarf_Die *out)
{
	Dwarf_CU *unit = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	while (dwarf_get_units(dwarf_file_dwarf(df), unit, &unit, NULL, &unit_type, &cudie, NULL) ==
	       0)
		if (struct_in_unit(&cudie, type, out) == 0)
			return 0;
	return -1;
}

/* The member named `name` (len bytes) of struct `st`. */
static int find_member(Dwarf_Die *st, const char *name, size_t len, Dwarf_Die *out)
{
	Dwarf_Die child;
	if (dwarf_child(st, &child) != 0)
		return -1;
	do {
		const char *n = dwarf_diename(&child);
		if (dwarf_tag(&child) == DW_TAG_member && n && strlen(n) == len &&
		    strncmp(n, name, len) == 0) {
			*out = child;
			return 0;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return -1;
}

static int type_size(Dwarf_Die *die, uint64_t *size)
{
	Dwarf_Attribute attr;
	Dwarf_Die type, stripped;
	Dwarf_Word v;
	if (!dwarf_attr(die, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type) ||
	    strip_type(&type, &stripped))
		return -1;
	if (dwarf_tag(&stripped) == DW_TAG_array_type) {
		int rc = dwarf_aggregate_size(&stripped, &v);
		*size = rc == 0 ? v : 0; /* a flexible array member has no size */
		return 0;
	}
	if (!dwarf_attr(&stripped, DW_AT_byte_size, &attr) || dwarf_formudata(&attr, &v))
		return -1;
	*size = v;
	return 0;
}

int dwarf_struct_member(struct dwarf_file *df, const char *type, const char *path,
			struct dwarf_member *out)
{
	Dwarf_Die st;
	if (!df || find_struct(df, type, &st))
		return -1;
	uint64_t base = 0;
	for (const char *p = path;;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		Dwarf_Die m;
		Dwarf_Attribute attr;
		Dwarf_Word v;
		if (find_member(&st, p, len, &m))
			return -1;
		uint64_t size = 0;
		if (dwarf_attr(&m, DW_AT_data_bit_offset, &attr)) {
			/* a bit-field (DWARF 4+ style): counted from the start of its struct */
			if (dot || dwarf_formudata(&attr, &v))
				return -1;
			Dwarf_Word bits = 0;
			if (dwarf_attr(&m, DW_AT_bit_size, &attr))
				dwarf_formudata(&attr, &bits);
			out->bit_offset = base * 8 + v;
			out->byte_offset = base + v / 8;
			out->bit_size = bits;
			return 0;
		}
		if (dwarf_attr(&m, DW_AT_data_member_location, &attr)) {
			if (dwarf_formudata(&attr, &v))
				return -1;
			base += v;
		} /* no location: the first member of a union */
		if (!dot) {
			if (type_size(&m, &size))
				return -1;
			out->byte_offset = base;
			out->bit_offset = base * 8;
			out->bit_size = size * 8;
			return 0;
		}
		Dwarf_Die mtype;
		if (!dwarf_attr(&m, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &mtype) ||
		    strip_type(&mtype, &st))
			return -1;
		p = dot + 1;
	}
}

int dwarf_struct_size(struct dwarf_file *df, const char *type, uint64_t *size)
{
	Dwarf_Die st;
	Dwarf_Attribute attr;
	Dwarf_Word v;
	if (!df || find_struct(df, type, &st) || !dwarf_attr(&st, DW_AT_byte_size, &attr) ||
	    dwarf_formudata(&attr, &v))
		return -1;
	*size = v;
	return 0;
}

/* The enumerators of the enumerations at the top of a unit. */
static int enumerator_in(Dwarf_Die *scope, const char *name, int64_t *value, int depth)
{
	Dwarf_Die child;
	if (depth > 1 || dwarf_child(scope, &child) != 0)
		return -1;
	do {
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_enumerator) {
			const char *n = dwarf_diename(&child);
			Dwarf_Attribute attr;
			Dwarf_Sword v;
			if (n && strcmp(n, name) == 0 &&
			    dwarf_attr(&child, DW_AT_const_value, &attr) &&
			    dwarf_formsdata(&attr, &v) == 0) {
				*value = v;
				return 0;
			}
		} else if (tag == DW_TAG_enumeration_type &&
			   enumerator_in(&child, name, value, depth + 1) == 0) {
			return 0;
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return -1;
}

int dwarf_enumerator(struct dwarf_file *df, const char *name, int64_t *value)
{
	Dwarf_CU *unit = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	if (!df)
		return -1;
	while (dwarf_get_units(dwarf_file_dwarf(df), unit, &unit, NULL, &unit_type, &cudie, NULL) ==
	       0)
		if (enumerator_in(&cudie, name, value, 0) == 0)
			return 0;
	return -1;
}
