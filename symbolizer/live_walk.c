/* Walking a running interpreter from outside: its modules and the dicts bound to their globals. */
#include "live_walk.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_object.h"
#include "proc_mem.h"

#define MAX_DICT_BYTES	    (64u << 20)
#define PY_TPFLAGS_DICT_SUB (1ul << 29)

int live_core_bias(pid_t pid, const struct interp_info *in, uint64_t *bias)
{
	if (!in->core_is_dynamic) {
		*bias = 0;
		return 0;
	}
	char path[64], core[PATH_MAX], line[PATH_MAX + 128];
	if (!realpath(in->core, core))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int rc = -1;
	while (rc && fgets(line, sizeof(line), f)) {
		unsigned long start, offset;
		char mapped[PATH_MAX];
		if (sscanf(line, "%lx-%*x %*s %lx %*s %*s %4095s", &start, &offset, mapped) == 3 &&
		    offset == 0 && strcmp(mapped, core) == 0) {
			*bias = start; /* PIE and shared objects link their first segment at 0 */
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

struct dict_view {
	uint8_t *keys; /* a copy of the PyDictKeysObject */
	uint64_t nentries, entry_size, entries_off;
	int unicode;
};

/* Copies a combined-table dict's keys object; split tables (instance dicts) are not walked. */
static int dict_read(pid_t pid, const struct code_layout *l, uint64_t dict, struct dict_view *d)
{
	uint64_t keys, values;
	uint8_t header[40];
	memset(d, 0, sizeof(*d));
	if (proc_mem_read_u64(pid, dict + l->dict_keys, &keys) ||
	    proc_mem_read_u64(pid, dict + l->dict_values, &values) || values ||
	    proc_mem_read(pid, keys, header, sizeof(header)))
		return -1;
	uint8_t log2_index_bytes = header[l->keys_log2_index_bytes];
	uint8_t kind = header[l->keys_kind];
	uint64_t nentries;
	memcpy(&nentries, header + l->keys_nentries, sizeof(nentries));
	if (log2_index_bytes > 30)
		return -1;
	d->unicode = kind != 0; /* DICT_KEYS_GENERAL is 0 */
	d->entry_size = d->unicode ? l->entry_size_unicode : l->entry_size_general;
	d->entries_off = l->keys_indices + (1ull << log2_index_bytes);
	d->nentries = nentries;
	uint64_t size = d->entries_off + nentries * d->entry_size;
	if (size > MAX_DICT_BYTES || !(d->keys = malloc(size)))
		return -1;
	if (proc_mem_read(pid, keys, d->keys, size)) {
		free(d->keys);
		d->keys = NULL;
		return -1;
	}
	return 0;
}

static void dict_entry(const struct dict_view *d, uint64_t i, uint64_t *key, uint64_t *value)
{
	const uint8_t *e = d->keys + d->entries_off + i * d->entry_size;
	size_t key_off = d->unicode ? 0 : 8;
	memcpy(key, e + key_off, 8);
	memcpy(value, e + key_off + 8, 8);
}

static int is_dict(pid_t pid, const struct interp_info *in, uint64_t bias, uint64_t obj)
{
	uint64_t type, flags;
	if (proc_mem_read_u64(pid, obj + in->code.obj_type, &type))
		return 0;
	if (type == in->layout.dict_type_addr + bias)
		return 1;
	return proc_mem_read_u64(pid, type + in->code.type_flags, &flags) == 0 &&
	       (flags & PY_TPFLAGS_DICT_SUB);
}

#define PY_TPFLAGS_LIST_SUB (1ul << 25)

/* PYWATCH_GLOBAL_LIST or _SET for what the kernel would watch when stored, else 0. */
static int container_kind(pid_t pid, const struct interp_info *in, uint64_t bias, uint64_t obj)
{
	uint64_t type, flags;
	if (!in->layout.list_type_addr || proc_mem_read_u64(pid, obj + in->code.obj_type, &type))
		return 0;
	if (type == in->layout.list_type_addr + bias)
		return PYWATCH_GLOBAL_LIST;
	if (type == in->layout.set_type_addr + bias)
		return PYWATCH_GLOBAL_SET;
	return proc_mem_read_u64(pid, type + in->code.type_flags, &flags) == 0 &&
		       (flags & PY_TPFLAGS_LIST_SUB)
		   ? PYWATCH_GLOBAL_LIST
		   : 0;
}

static void walk_module_globals(pid_t pid, const struct interp_info *in, uint64_t bias,
				uint64_t module_dict, const struct live_walk_visitor *v)
{
	struct dict_view d;
	if (dict_read(pid, &in->code, module_dict, &d))
		return;
	for (uint64_t i = 0; i < d.nentries; i++) {
		uint64_t key, value;
		char name[256];
		dict_entry(&d, i, &key, &value);
		if (!key || !value || py_str_read(pid, &in->code, key, name, sizeof(name)) ||
		    strncmp(name, "__", 2) == 0)
			continue;
		int kind;
		if (is_dict(pid, in, bias, value))
			v->global_dict(v->ctx, value, module_dict, name);
		else if (v->global_object && (kind = container_kind(pid, in, bias, value)) != 0)
			v->global_object(v->ctx, value, module_dict, name, kind);
	}
	free(d.keys);
}

int live_walk_modules(pid_t pid, const struct interp_info *in, uint64_t bias,
		      const struct live_walk_visitor *v)
{
	const struct code_layout *l = &in->code;
	uint64_t interp, modules;
	uint64_t runtime = in->layout.runtime_addr + bias;
	if (proc_mem_read_u64(pid, runtime + l->runtime_main_interp, &interp) ||
	    proc_mem_read_u64(pid, interp + l->interp_modules, &modules) ||
	    !is_dict(pid, in, bias, modules))
		return -1;
	struct dict_view d;
	if (dict_read(pid, l, modules, &d))
		return -1;
	int visited = 0;
	for (uint64_t i = 0; i < d.nentries; i++) {
		uint64_t key, module, module_dict;
		char name[256];
		dict_entry(&d, i, &key, &module);
		if (!key || !module || py_str_read(pid, l, key, name, sizeof(name)) ||
		    proc_mem_read_u64(pid, module + l->module_dict, &module_dict) ||
		    !is_dict(pid, in, bias, module_dict))
			continue;
		v->module(v->ctx, module_dict, name);
		walk_module_globals(pid, in, bias, module_dict, v);
		visited++;
	}
	free(d.keys);
	return visited;
}
