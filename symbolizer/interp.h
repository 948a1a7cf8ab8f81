/* Finding a CPython interpreter in an executable: version, build, struct layout, probe points. */
#ifndef PYRACE_INTERP_H
#define PYRACE_INTERP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include "events.h"

enum probe_module {
	PROBE_IN_CORE,	/* the executable or libpython */
	PROBE_IN_QUEUE, /* the _queue extension module */
};

/* One uprobe: BPF program `program` on function `function`. */
struct probe_spec {
	const char *program;
	const char *function;
	int is_return;
	enum probe_module module;
	const char *event_class; /* what is missing when the probe is */
};

extern const struct probe_spec probe_specs[];
extern const size_t probe_spec_count;

struct probe_point {
	const struct probe_spec *spec;
	char symbol[128];     /* the symbol found (may be a clone name) */
	uint64_t vaddr;	      /* link-time address of the probed instruction */
	uint64_t file_offset; /* where the uprobe goes */
	const char *source;   /* dynsym, symtab or debug file */
	int found;
};

/* Offsets user space needs beyond what the BPF programs use. */
struct code_layout {
	uint32_t co_filename, co_name, co_qualname, co_linetable, co_firstlineno;
	uint32_t bytes_size, bytes_data; /* PyBytesObject ob_size, ob_sval */
	uint32_t str_state, str_length, str_ascii_data, str_utf8_length, str_utf8;
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
	const char *build;   /* "release" */
	int core_is_dynamic; /* PIE or shared object: loaded at a bias */
	struct pyrace_layout layout;
	struct code_layout code;
	struct probe_point probes[48];
	size_t nprobes;
	int no_reads; /* read probes left out (pyrace --no-reads) */
};

/* Inspects `exe` (with `ld_library_path` from the target's environment, may be NULL) and fills
 * `out`. `debug_dir` is where build-id debug files live (/usr/lib/debug). On failure returns a
 * status and writes one line for the user into `why`. */
enum interp_status interp_inspect(const char *exe, const char *ld_library_path,
				  const char *debug_dir, struct interp_info *out, char *why,
				  size_t whylen);

/* Leaves out the probe points of dict reads and iteration: writes and synchronisation only. */
void interp_skip_reads(struct interp_info *in);

#endif
