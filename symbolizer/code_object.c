/* Reading a Python code object from the target: file, function, first line and line table. */
#include "code_object.h"

#include <stdlib.h>
#include <string.h>

#include "proc_mem.h"

int py_str_read(pid_t pid, const struct code_layout *l, uint64_t str, char *out, size_t outlen)
{
	uint32_t state;
	uint64_t len = 0, data = 0;
	if (outlen == 0 || proc_mem_read(pid, str + l->str_state, &state, sizeof(state)))
		return -1;
	int compact = (state >> l->str_compact_bit) & 1, ascii = (state >> l->str_ascii_bit) & 1;
	if (compact && ascii) {
		if (proc_mem_read_u64(pid, str + l->str_length, &len))
			return -1;
		data = str + l->str_ascii_data;
	} else if (compact) {
		if (proc_mem_read_u64(pid, str + l->str_utf8_length, &len) ||
		    proc_mem_read_u64(pid, str + l->str_utf8, &data) || !data)
			return -1;
	} else {
		return -1;
	}
	if (len >= outlen)
		len = outlen - 1;
	if (len && proc_mem_read(pid, data, out, len))
		return -1;
	out[len] = '\0';
	return 0;
}

int code_object_read(pid_t pid, const struct code_layout *l, uint64_t code, uint64_t code_type,
		     struct code_info *info)
{
	uint64_t filename, qualname, linetable, size, type;
	memset(info, 0, sizeof(*info));
	/* a code object freed before we got to it: its memory may hold anything now */
	if (code_type && (proc_mem_read_u64(pid, code + l->obj_type, &type) || type != code_type))
		return -1;
	if (proc_mem_read_u64(pid, code + l->co_filename, &filename) ||
	    proc_mem_read_u64(pid, code + l->co_qualname, &qualname) ||
	    proc_mem_read_u64(pid, code + l->co_linetable, &linetable) ||
	    proc_mem_read(pid, code + l->co_firstlineno, &info->first_line, 4))
		return -1;
	if (py_str_read(pid, l, filename, info->filename, sizeof(info->filename)) ||
	    py_str_read(pid, l, qualname, info->qualname, sizeof(info->qualname)))
		return -1;
	if (proc_mem_read_u64(pid, linetable + l->bytes_size, &size) || size > CODE_LINETABLE_MAX)
		return -1;
	info->linetable = malloc(size ? size : 1);
	if (!info->linetable)
		return -1;
	if (size && proc_mem_read(pid, linetable + l->bytes_data, info->linetable, size)) {
		free(info->linetable);
		info->linetable = NULL;
		return -1;
	}
	info->linetable_len = (uint32_t)size;
	return 0;
}
