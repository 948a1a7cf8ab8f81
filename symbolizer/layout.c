/* Struct offsets of each CPython version pyrace knows: built-in tables, and for 3.13+ what the
 * interpreter publishes in _Py_DebugOffsets. */
#include "layout.h"

#include <stdio.h>

#include "dwarf_types.h"

/* Struct offsets of CPython 3.11 release builds on x86-64 (the same in 3.11.0 to 3.11.x). */
void layout_for_311(struct interp_info *in)
{
	struct pyrace_layout *l = &in->layout;
	l->runtime_tstate_current = 0x240;
	l->tstate_cframe = 0x38;
	l->cframe_current_frame = 8;
	l->frame_code = 32;
	l->frame_previous = 48;
	l->frame_prev_instr = 56;
	l->frame_owner = 69;
	l->owner_cstack = 0xff; /* 3.11 has no C-stack shim frames */
	l->code_adaptive = 184;
	l->obj_type = 8;
	l->type_flags = 168;
	l->type_name = 24;
	l->str_hash = 24;
	l->str_state = 32;
	l->str_length = 16;
	l->str_ascii_data = 48;
	l->str_utf8_length = 48;
	l->str_utf8 = 56;
	l->str_compact_bit = 5;
	l->str_ascii_bit = 6;
	l->long_size = 16;
	l->long_digits = 24;
	l->dict_used = 16;
	l->dictview_dict = 16;
	l->weakref_object = 16;

	struct code_layout *c = &in->code;
	c->co_filename = 112;
	c->co_name = 120;
	c->co_qualname = 128;
	c->co_linetable = 136;
	c->co_firstlineno = 72;
	c->bytes_size = 16;
	c->bytes_data = 32;
	c->str_state = l->str_state;
	c->str_length = l->str_length;
	c->str_ascii_data = l->str_ascii_data;
	c->str_utf8_length = l->str_utf8_length;
	c->str_utf8 = l->str_utf8;
	c->str_compact_bit = l->str_compact_bit;
	c->str_ascii_bit = l->str_ascii_bit;
	c->obj_type = l->obj_type;
	c->runtime_main_interp = 0x30;
	c->interp_modules = 0x378;
	c->dict_keys = 0x20;
	c->dict_values = 0x28;
	c->keys_log2_size = 8;
	c->keys_log2_index_bytes = 9;
	c->keys_kind = 10;
	c->keys_nentries = 24;
	c->keys_indices = 32;
	c->entry_size_general = 24;
	c->entry_size_unicode = 16;
	c->module_dict = 16;
	c->type_flags = l->type_flags;
}

/* Offsets _Py_DebugOffsets leaves out, measured with gdb `ptype /o` on Debian's 3.13.5 and
 * 3.14.10 (docs/interpreters.md §2-§3); the same in every release build of the minor version
 * as far as the headers show. */
struct table_313_314 {
	uint32_t owner_first_shim; /* frames with an owner >= this are not Python frames */
	uint32_t handle_exiting;   /* ThreadHandle.thread_is_exiting */
	uint32_t str_hash, str_utf8_length, str_utf8;
	uint32_t dict_used, dictview_dict, weakref_object, module_dict;
	uint32_t keys_log2_size, keys_log2_index_bytes, keys_kind, keys_nentries, keys_indices;
	uint32_t entry_size_general, entry_size_unicode;
	uint32_t pyinterpreters_main_after_head; /* struct pyinterpreters: main follows head */
	uint32_t str_compact_bit, str_ascii_bit; /* PyASCIIObject.state bits */
	uint32_t cfunction_self;		 /* PyCFunctionObject.m_self */
};

static const struct table_313_314 table_313 = {
    .owner_first_shim = 3, /* FRAME_OWNED_BY_CSTACK */
    .handle_exiting = 57,
    .str_hash = 24,
    .str_utf8_length = 40,
    .str_utf8 = 48,
    .dict_used = 16,
    .dictview_dict = 16,
    .weakref_object = 16,
    .module_dict = 16,
    .keys_log2_size = 8,
    .keys_log2_index_bytes = 9,
    .keys_kind = 10,
    .keys_nentries = 24,
    .keys_indices = 32,
    .entry_size_general = 24,
    .entry_size_unicode = 16,
    .pyinterpreters_main_after_head = 8,
    .str_compact_bit = 5,
    .str_ascii_bit = 6,
    .cfunction_self = 24,
};

/* 3.14 differs only where the owner enum gained FRAME_OWNED_BY_INTERPRETER (3) before CSTACK */
static const struct table_313_314 table_314 = {
    .owner_first_shim = 3,
    .handle_exiting = 57,
    .str_hash = 24,
    .str_utf8_length = 40,
    .str_utf8 = 48,
    .dict_used = 16,
    .dictview_dict = 16,
    .weakref_object = 16,
    .module_dict = 16,
    .keys_log2_size = 8,
    .keys_log2_index_bytes = 9,
    .keys_kind = 10,
    .keys_nentries = 24,
    .keys_indices = 32,
    .entry_size_general = 24,
    .entry_size_unicode = 16,
    .pyinterpreters_main_after_head = 8,
    .str_compact_bit = 5,
    .str_ascii_bit = 6,
    .cfunction_self = 24,
};

static void apply_table(struct interp_info *in, const struct py_debug_offsets *d,
			const struct table_313_314 *t);

int layout_for_313_314(struct interp_info *in, const struct py_debug_offsets *d)
{
	const struct table_313_314 *t;
	if (in->major == 3 && in->minor == 13)
		t = &table_313;
	else if (in->major == 3 && in->minor == 14)
		t = &table_314;
	else
		return -1;
	apply_table(in, d, t);
	return 0;
}

/* One field of the table from DWARF: a member's byte offset, a bit-field's bit within the u32
 * at `bits_from`, a struct's size, an enumerator's value, or the distance between two members. */
struct dwarf_field {
	uint32_t *dst;
	const char *type, *member; /* member NULL: sizeof(type) */
	const char *enumerator;	   /* instead of type */
	const char *minus;	   /* subtract this member's offset (same type) */
	int bit;		   /* the member's bit, counted from byte `bits_from` */
	uint32_t bits_from;
};

static int dwarf_field_value(struct dwarf_file *df, const struct dwarf_field *f, uint32_t *value)
{
	struct dwarf_member m, base;
	uint64_t size;
	int64_t e;
	if (f->enumerator) {
		if (dwarf_enumerator(df, f->enumerator, &e) || e < 0)
			return -1;
		*value = (uint32_t)e;
	} else if (!f->member) {
		if (dwarf_struct_size(df, f->type, &size))
			return -1;
		*value = (uint32_t)size;
	} else if (dwarf_struct_member(df, f->type, f->member, &m)) {
		return -1;
	} else if (f->bit) {
		if (m.bit_size != 1 || m.bit_offset < (uint64_t)f->bits_from * 8 ||
		    m.bit_offset - (uint64_t)f->bits_from * 8 >= 32)
			return -1;
		*value = (uint32_t)(m.bit_offset - (uint64_t)f->bits_from * 8);
	} else if (f->minus) {
		if (dwarf_struct_member(df, f->type, f->minus, &base) ||
		    base.byte_offset > m.byte_offset)
			return -1;
		*value = (uint32_t)(m.byte_offset - base.byte_offset);
	} else {
		*value = (uint32_t)m.byte_offset;
	}
	return 0;
}

int layout_from_dwarf(struct interp_info *in, const struct py_debug_offsets *d,
		      struct dwarf_file *df, char *missing, size_t len)
{
	struct table_313_314 t = {0};
	uint32_t state = (uint32_t)d->str_state;
	/* the members _Py_DebugOffsets leaves out (the table's rows), by their C names */
	const struct dwarf_field fields[] = {
	    {&t.owner_first_shim, NULL, NULL, "FRAME_OWNED_BY_CSTACK", NULL, 0, 0},
	    {&t.handle_exiting, "ThreadHandle", "thread_is_exiting", NULL, NULL, 0, 0},
	    {&t.str_hash, "PyASCIIObject", "hash", NULL, NULL, 0, 0},
	    {&t.str_utf8_length, "PyCompactUnicodeObject", "utf8_length", NULL, NULL, 0, 0},
	    {&t.str_utf8, "PyCompactUnicodeObject", "utf8", NULL, NULL, 0, 0},
	    {&t.str_compact_bit, "PyASCIIObject", "state.compact", NULL, NULL, 1, state},
	    {&t.str_ascii_bit, "PyASCIIObject", "state.ascii", NULL, NULL, 1, state},
	    {&t.dict_used, "PyDictObject", "ma_used", NULL, NULL, 0, 0},
	    {&t.dictview_dict, "_PyDictViewObject", "dv_dict", NULL, NULL, 0, 0},
	    {&t.weakref_object, "_PyWeakReference", "wr_object", NULL, NULL, 0, 0},
	    {&t.module_dict, "PyModuleObject", "md_dict", NULL, NULL, 0, 0},
	    {&t.keys_log2_size, "_dictkeysobject", "dk_log2_size", NULL, NULL, 0, 0},
	    {&t.keys_log2_index_bytes, "_dictkeysobject", "dk_log2_index_bytes", NULL, NULL, 0, 0},
	    {&t.keys_kind, "_dictkeysobject", "dk_kind", NULL, NULL, 0, 0},
	    {&t.keys_nentries, "_dictkeysobject", "dk_nentries", NULL, NULL, 0, 0},
	    {&t.keys_indices, "_dictkeysobject", "dk_indices", NULL, NULL, 0, 0},
	    {&t.entry_size_general, "PyDictKeyEntry", NULL, NULL, NULL, 0, 0},
	    {&t.entry_size_unicode, "PyDictUnicodeEntry", NULL, NULL, NULL, 0, 0},
	    {&t.pyinterpreters_main_after_head, "pyinterpreters", "main", NULL, "head", 0, 0},
	    {&t.cfunction_self, "PyCFunctionObject", "m_self", NULL, NULL, 0, 0},
	};
	size_t used = 0, nmissing = 0;
	missing[0] = '\0';
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct dwarf_field *f = &fields[i];
		if (dwarf_field_value(df, f, f->dst) == 0)
			continue;
		nmissing++;
		if (used < len)
			used += (size_t)snprintf(missing + used, len - used, "%s%s%s%s",
						 used ? ", " : "",
						 f->enumerator ? f->enumerator : f->type,
						 f->member ? "." : "", f->member ? f->member : "");
	}
	if (nmissing)
		return -1;
	apply_table(in, d, &t);
	/* the table's rows came from DWARF instead */
	in->layout_from_dwarf = in->layout_from_table;
	in->layout_from_table = 0;
	return 0;
}

static void apply_table(struct interp_info *in, const struct py_debug_offsets *d,
			const struct table_313_314 *t)
{
	struct pyrace_layout *l = &in->layout;
	struct code_layout *c = &in->code;
	struct thread_layout *th = &in->threads;
	/* the thread state is no longer reachable from _PyRuntime: see in->threads */
	l->runtime_tstate_current = 0;
	l->tstate_cframe = 0;
	l->cframe_current_frame = 0;
	l->frame_code = (uint32_t)d->frame_executable;
	l->frame_previous = (uint32_t)d->frame_previous;
	l->frame_prev_instr = (uint32_t)d->frame_instr_ptr; /* now the current instruction */
	l->frame_owner = (uint32_t)d->frame_owner;
	l->owner_cstack = t->owner_first_shim;
	l->code_adaptive = (uint32_t)d->code_adaptive;
	l->obj_type = (uint32_t)d->obj_type;
	l->type_flags = (uint32_t)d->type_flags;
	l->type_name = (uint32_t)d->type_name;
	l->str_hash = t->str_hash;
	l->str_state = (uint32_t)d->str_state;
	l->str_length = (uint32_t)d->str_length;
	l->str_ascii_data = (uint32_t)d->str_ascii_size;
	l->str_utf8_length = t->str_utf8_length;
	l->str_utf8 = t->str_utf8;
	l->str_compact_bit = (uint8_t)t->str_compact_bit;
	l->str_ascii_bit = (uint8_t)t->str_ascii_bit;
	l->long_size = (uint32_t)d->long_lv_tag; /* lv_tag: sign and digit count, not ob_size */
	l->long_digits = (uint32_t)d->long_digits;
	l->long_tagged = 1;
	l->tstate_current_frame = (uint32_t)d->tstate_current_frame;
	l->handle_exiting = t->handle_exiting;
	/* tls_tstate and code_type_addr depend on the file, not the version: see interp.c */
	l->dict_used = t->dict_used;
	l->dictview_dict = t->dictview_dict;
	l->weakref_object = t->weakref_object;
	l->cfunction_self = t->cfunction_self;

	c->co_filename = (uint32_t)d->code_filename;
	c->co_name = (uint32_t)d->code_name;
	c->co_qualname = (uint32_t)d->code_qualname;
	c->co_linetable = (uint32_t)d->code_linetable;
	c->co_firstlineno = (uint32_t)d->code_firstlineno;
	c->bytes_size = (uint32_t)d->bytes_size;
	c->bytes_data = (uint32_t)d->bytes_data;
	c->str_state = l->str_state;
	c->str_length = l->str_length;
	c->str_ascii_data = l->str_ascii_data;
	c->str_utf8_length = l->str_utf8_length;
	c->str_utf8 = l->str_utf8;
	c->str_compact_bit = l->str_compact_bit;
	c->str_ascii_bit = l->str_ascii_bit;
	c->obj_type = l->obj_type;
	c->runtime_main_interp =
	    (uint32_t)d->runtime_interpreters_head + t->pyinterpreters_main_after_head;
	c->interp_modules = (uint32_t)d->interp_imports_modules;
	c->dict_keys = (uint32_t)d->dict_keys;
	c->dict_values = (uint32_t)d->dict_values;
	c->keys_log2_size = t->keys_log2_size;
	c->keys_log2_index_bytes = t->keys_log2_index_bytes;
	c->keys_kind = t->keys_kind;
	c->keys_nentries = t->keys_nentries;
	c->keys_indices = t->keys_indices;
	c->entry_size_general = t->entry_size_general;
	c->entry_size_unicode = t->entry_size_unicode;
	c->module_dict = t->module_dict;
	c->type_flags = l->type_flags;

	th->runtime_interpreters_head = (uint32_t)d->runtime_interpreters_head;
	th->interp_threads_head = (uint32_t)d->interp_threads_head;
	th->tstate_next = (uint32_t)d->tstate_next;
	th->tstate_current_frame = (uint32_t)d->tstate_current_frame;
	th->tstate_native_thread_id = (uint32_t)d->tstate_native_thread_id;
	th->gil_holder = (uint32_t)d->interp_gil_holder;
	th->gil_locked = (uint32_t)d->interp_gil_locked;

	/* the assignments above from d, and from t */
	in->layout_from_debug_offsets = 32;
	in->layout_from_table = 19;
}
