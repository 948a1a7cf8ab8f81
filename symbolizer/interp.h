/* Finding a CPython interpreter in an executable: version, build, struct layout, probe points. */
#ifndef PYRACE_INTERP_H
#define PYRACE_INTERP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"

#include "probe_tables.h"
#include "usdt_notes.h"

/* Probe points of one interpreter: functions, their clones and inlined copies (3.14 with lists
 * and sets: about 150). */
#define PYRACE_MAX_PROBES 256

/* Where an argument the probe's program reads is, at the probed instruction (from DWARF). */
struct probe_arg {
	char name[40];
	char where[16]; /* "rdi", "r12", "stack", "optimised out", "?" without DWARF */
};

enum probe_kind {
	PROBE_FUNCTION = 0, /* an out-of-line copy of spec->function */
	PROBE_INLINE_ENTRY, /* where an inlined copy starts */
	PROBE_INLINE_EXIT,  /* where its caller's variable receives the inlined copy's result */
};

struct probe_point {
	const struct probe_spec *spec;
	enum probe_kind kind;
	const char *program;  /* the BPF program: spec->program, or the spec's inline programs */
	char symbol[128];     /* the symbol found (may be a clone name) */
	uint64_t entry;	      /* link-time address of the function (the symbol's value) */
	uint64_t vaddr;	      /* link-time address of the probed instruction */
	uint64_t file_offset; /* where the uprobe goes */
	const char *source;   /* dynsym, symtab, debug file or DWARF */
	int found;
	struct probe_arg args[6];
	size_t nargs;
	size_t ninlined;	   /* inlined copies of the function (full inspection only) */
	size_t ninlined_uncovered; /* ... of them not inside another probed function */
	size_t ninlined_wanted;	   /* ... of them, those the table wants probed */
	size_t ninlined_traced;	   /* ... of those, probed through points of their own */
	/* where the program finds its arguments (enum pyrace_reg), from DWARF; regs_known 0: the
	 * calling convention's order, as on 3.11 where DWARF is not read for pyrace run */
	uint8_t regs[PYRACE_ARGMAP_ARGS];
	int32_t offs[PYRACE_ARGMAP_ARGS]; /* added to the register's value ("r8+8") */
	int regs_known;
	int regs_unusable; /* an argument the program reads is not in a register there */
};

/* One inlined copy of a probed function, as the doctor shows it. */
struct interp_inline_site {
	size_t probe;	   /* index in interp_info.probes of the function's first point */
	uint64_t entry_pc; /* link-time */
	uint64_t low, high;
	size_t nranges;
	char caller[128]; /* ELF symbol holding entry_pc, or the DWARF caller name */
	uint64_t caller_offset;
	int covered; /* its caller is itself probed */
	int wanted;  /* not covered, and the table says to probe it */
	int traced;  /* probed through points of its own (the spec names inline programs) */
	struct probe_arg args[6];
	size_t nargs;
};

/* Finding the current thread and its frames on 3.13+, where _PyRuntime no longer points at it. */
struct thread_layout {
	int32_t tls_tstate; /* _Py_tss_tstate relative to the thread pointer (static executable) */
	uint32_t runtime_interpreters_head, interp_threads_head;
	uint32_t tstate_next, tstate_current_frame, tstate_native_thread_id;
	uint32_t gil_holder, gil_locked; /* inside PyInterpreterState */
};

/* The program a probe point runs. */
static inline const char *probe_program(const struct probe_point *p)
{
	return p->program ? p->program : p->spec->program;
}

/* Offsets user space needs beyond what the BPF programs use. */
struct code_layout {
	uint32_t co_filename, co_name, co_qualname, co_linetable, co_firstlineno;
	uint32_t bytes_size, bytes_data; /* PyBytesObject ob_size, ob_sval */
	uint32_t str_state, str_length, str_ascii_data, str_utf8_length, str_utf8;
	uint8_t str_compact_bit, str_ascii_bit; /* in the u32 at str_state */
	uint32_t obj_type;
	/* walking the live interpreter from outside (pyrace attach) */
	uint32_t runtime_main_interp; /* _PyRuntime.interpreters.main */
	uint32_t interp_modules;      /* PyInterpreterState.modules (sys.modules) */
	uint32_t dict_keys;	      /* PyDictObject.ma_keys */
	uint32_t dict_values;	      /* PyDictObject.ma_values (split tables) */
	uint32_t keys_log2_size, keys_log2_index_bytes, keys_kind, keys_nentries, keys_indices;
	uint32_t entry_size_general, entry_size_unicode;
	uint32_t module_dict;	 /* PyModuleObject.md_dict */
	uint64_t code_type_addr; /* PyCode_Type, link-time */
	uint32_t type_flags;
};

enum interp_status {
	INTERP_OK = 0,
	INTERP_NOT_ELF,
	INTERP_NOT_PYTHON,
	INTERP_UNSUPPORTED,
	INTERP_NO_DEBUG_INFO,
};

struct interp_info {
	char exe[PATH_MAX];
	char core[PATH_MAX];	  /* file holding the interpreter: exe or libpython */
	char queue_ext[PATH_MAX]; /* _queue extension, empty when not found */
	char debug_file[PATH_MAX];
	char version[32];
	unsigned major, minor, micro;
	uint32_t version_hex;
	/* "release", "Py_DEBUG", "free-threaded" or "free-threaded Py_DEBUG" */
	const char *build;
	int core_is_dynamic; /* PIE or shared object: loaded at a bias */
	int core_has_symtab; /* not stripped: static functions named by the file itself */
	struct pyrace_layout layout;
	struct code_layout code;
	struct thread_layout threads;
	/* where the layout came from (3.13+): fields read from _Py_DebugOffsets, from tables */
	unsigned layout_from_debug_offsets, layout_from_table, layout_from_dwarf;
	int has_debug_offsets;
	uint64_t debug_offsets_version; /* PY_VERSION_HEX as _Py_DebugOffsets states it */
	int free_threaded;
	const struct probe_table *table;
	struct probe_point probes[PYRACE_MAX_PROBES];
	size_t nprobes;
	/* filled by interp_inspect_all() only */
	char dwarf_file[PATH_MAX]; /* where DWARF was read: the debug file or the core itself */
	struct interp_inline_site inlined[256];
	size_t ninlined;	   /* entries in inlined[] */
	size_t ninlined_total;	   /* all sites found, inlined[] keeps the first ones */
	double dwarf_walk_seconds; /* the DIE walk for inlined copies */
	size_t dwarf_units_walked, dwarf_units;
	int no_reads;	  /* read probes left out (pyrace --no-reads) */
	int nested_depth; /* levels of dicts in watched dicts that are watched too (--nested-depth)
			   */
	/* --global-reads: the USDT `line` probe whose semaphore the kernel raises while attached */
	int global_reads;
	struct usdt_probe line_probe;
	/* where the uprobe holding the semaphore goes (file offset in `core`), and its name */
	uint64_t semaphore_site;
	char semaphore_site_name[64];
};

/* Inspects `exe` (with `ld_library_path` from the target's environment, may be NULL) and fills
 * `out`. `debug_dir` is where build-id debug files live (/usr/lib/debug). On failure returns a
 * status and writes one line for the user into `why`. */
enum interp_status interp_inspect(const char *exe, const char *ld_library_path,
				  const char *debug_dir, struct interp_info *out, char *why,
				  size_t whylen);

/* interp_inspect(), and for the doctor also what `pyrace run` does not need yet: for versions
 * it refuses (3.13, 3.14, debug builds) the layout and probe points anyway; argument registers
 * from DWARF; every inlined copy of a probed function; functions no symbol names, by their DWARF
 * name. The status and `why` are those interp_inspect() gives. */
enum interp_status interp_inspect_all(const char *exe, const char *ld_library_path,
				      const char *debug_dir, struct interp_info *out, char *why,
				      size_t whylen);

/* The build flavour from what the file says: _Py_DebugOffsets.free_threaded, and Py_DEBUG from
 * the export of _Py_NegativeRefcount or _Py_RefTotal (both exist only with Py_REF_DEBUG, which
 * Py_DEBUG turns on). */
const char *interp_flavour(int free_threaded, int py_debug);

/* A probe point that was not placed: its function was found neither by a symbol nor by DWARF,
 * nor seen through probes on every inlined copy of it; optional functions are never missing. */
int probe_point_missing(const struct probe_point *p);

/* Leaves out the probe points of dict reads and iteration: writes and synchronisation only. */
void interp_skip_reads(struct interp_info *in);

#endif
