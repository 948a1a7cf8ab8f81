/* CPython 3.13+'s _Py_DebugOffsets: the struct layout the interpreter publishes about itself. */
#include "debug_offsets.h"

#include <string.h>

/* The struct grows between minor versions (3.14 inserted fields in the middle), so where each
 * field sits depends on the version the struct itself states at byte 8; positions measured on
 * Debian's builds and checked against gdb's view of _PyRuntime.debug_offsets. -1: not in it. */
struct field_position {
	size_t member; /* offsetof(struct py_debug_offsets, ...) */
	int at_313, at_314;
};

#define FIELD(m, a, b)                                                                             \
	{                                                                                          \
		offsetof(struct py_debug_offsets, m), a, b                                         \
	}

static const struct field_position fields[] = {
    FIELD(runtime_size, 24, 24),
    FIELD(runtime_finalizing, 32, 32),
    FIELD(runtime_interpreters_head, 40, 40),
    FIELD(interp_size, 48, 48),
    FIELD(interp_id, 56, 56),
    FIELD(interp_next, 64, 64),
    FIELD(interp_threads_head, 72, 72),
    FIELD(interp_threads_main, -1, 80),
    FIELD(interp_imports_modules, 88, 96),
    FIELD(interp_sysdict, 96, 104),
    FIELD(interp_builtins, 104, 112),
    FIELD(interp_ceval_gil, 112, 120),
    FIELD(interp_gil_runtime_state, 120, 128),
    FIELD(interp_gil_locked, 136, 144),
    FIELD(interp_gil_holder, 144, 152),
    FIELD(tstate_size, 152, 176),
    FIELD(tstate_prev, 160, 184),
    FIELD(tstate_next, 168, 192),
    FIELD(tstate_interp, 176, 200),
    FIELD(tstate_current_frame, 184, 208),
    FIELD(tstate_thread_id, 192, 216),
    FIELD(tstate_native_thread_id, 200, 224),
    FIELD(tstate_status, 216, 240),
    FIELD(frame_size, 224, 248),
    FIELD(frame_previous, 232, 256),
    FIELD(frame_executable, 240, 264),
    FIELD(frame_instr_ptr, 248, 272),
    FIELD(frame_localsplus, 256, 280),
    FIELD(frame_owner, 264, 288),
    FIELD(frame_stackpointer, -1, 296),
    FIELD(code_size, 272, 312),
    FIELD(code_filename, 280, 320),
    FIELD(code_name, 288, 328),
    FIELD(code_qualname, 296, 336),
    FIELD(code_linetable, 304, 344),
    FIELD(code_firstlineno, 312, 352),
    FIELD(code_argcount, 320, 360),
    FIELD(code_adaptive, 344, 384),
    FIELD(obj_type, 360, 408),
    FIELD(type_name, 376, 424),
    FIELD(type_flags, 392, 440),
    FIELD(dict_keys, 456, 536),
    FIELD(dict_values, 464, 544),
    FIELD(long_lv_tag, 496, 576),
    FIELD(long_digits, 504, 584),
    FIELD(bytes_size, 520, 600),
    FIELD(bytes_data, 528, 608),
    FIELD(str_state, 544, 624),
    FIELD(str_length, 552, 632),
    FIELD(str_ascii_size, 560, 640),
};

static uint64_t read_u64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

enum debug_offsets_status debug_offsets_parse(const void *buf, size_t len,
					      struct py_debug_offsets *out)
{
	const unsigned char *b = buf;
	memset(out, 0, sizeof(*out));
	if (len < 24 || memcmp(b, "xdebugpy", 8) != 0)
		return DEBUG_OFFSETS_NO_COOKIE;
	out->version = read_u64(b + 8);
	unsigned major = (out->version >> 24) & 0xff, minor = (out->version >> 16) & 0xff;
	int column;
	if (major == 3 && minor == 13) {
		out->struct_size = 584;
		column = 0;
	} else if (major == 3 && minor == 14) {
		out->struct_size = 760;
		column = 1;
	} else {
		return DEBUG_OFFSETS_UNKNOWN_VERSION;
	}
	if (len < out->struct_size)
		return DEBUG_OFFSETS_TRUNCATED;
	out->free_threaded = read_u64(b + 16) != 0;
	out->nfields = 3; /* cookie, version, free_threaded */
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int at = column ? fields[i].at_314 : fields[i].at_313;
		if (at < 0)
			continue;
		uint64_t *dst = (uint64_t *)((char *)out + fields[i].member);
		*dst = read_u64(b + at);
		out->nfields++;
	}
	return DEBUG_OFFSETS_OK;
}
