/* CPython 3.13+'s _Py_DebugOffsets: the struct layout the interpreter publishes about itself. */
#ifndef PYRACE_DEBUG_OFFSETS_H
#define PYRACE_DEBUG_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

/* The largest _Py_DebugOffsets we know how to read (3.14: 760 bytes). */
#define PY_DEBUG_OFFSETS_MAX 1024

/* The fields pyrace has a use for; 0 means "not published by this version". Every value is a
 * byte offset inside the named struct except the *_size ones. */
struct py_debug_offsets {
	uint64_t version; /* PY_VERSION_HEX */
	int free_threaded;
	size_t struct_size; /* sizeof(_Py_DebugOffsets) for this version */
	unsigned nfields;   /* fields read from the bytes */

	uint64_t runtime_size, runtime_finalizing, runtime_interpreters_head;
	uint64_t interp_size, interp_id, interp_next, interp_threads_head, interp_threads_main;
	uint64_t interp_imports_modules, interp_sysdict, interp_builtins, interp_ceval_gil;
	uint64_t interp_gil_runtime_state, interp_gil_locked, interp_gil_holder;
	uint64_t tstate_size, tstate_prev, tstate_next, tstate_interp, tstate_current_frame;
	uint64_t tstate_thread_id, tstate_native_thread_id, tstate_status;
	uint64_t frame_size, frame_previous, frame_executable, frame_instr_ptr, frame_localsplus;
	uint64_t frame_owner, frame_stackpointer;
	uint64_t code_size, code_filename, code_name, code_qualname, code_linetable;
	uint64_t code_firstlineno, code_argcount, code_adaptive;
	uint64_t obj_type;
	uint64_t type_name, type_flags;
	uint64_t dict_keys, dict_values;
	uint64_t long_lv_tag, long_digits;
	uint64_t bytes_size, bytes_data;
	uint64_t str_state, str_length, str_ascii_size;
};

enum debug_offsets_status {
	DEBUG_OFFSETS_OK = 0,
	DEBUG_OFFSETS_NO_COOKIE,       /* not a _Py_DebugOffsets (3.12 and older have none) */
	DEBUG_OFFSETS_UNKNOWN_VERSION, /* a layout of _Py_DebugOffsets we have no table for */
	DEBUG_OFFSETS_TRUNCATED,       /* fewer bytes than this version's struct */
};

/* Parses the first `len` bytes of a .PyRuntime section. Little-endian x86-64/aarch64 only. */
enum debug_offsets_status debug_offsets_parse(const void *buf, size_t len,
					      struct py_debug_offsets *out);

#endif /* PYRACE_DEBUG_OFFSETS_H */
