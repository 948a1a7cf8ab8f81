/* Reading a Python code object from the target: file, function, first line and line table. */
#ifndef PYRACE_CODE_OBJECT_H
#define PYRACE_CODE_OBJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "interp.h"

#define CODE_TEXT_MAX	   1024
#define CODE_LINETABLE_MAX (1 << 20)

struct code_info {
	char filename[CODE_TEXT_MAX];
	char qualname[CODE_TEXT_MAX];
	int32_t first_line;
	uint8_t *linetable; /* malloc'd */
	uint32_t linetable_len;
};

/* 0 on success; the caller frees info->linetable. With `code_type` (the run-time address of
 * PyCode_Type) not 0, memory that no longer holds a code object is refused. */
int code_object_read(pid_t pid, const struct code_layout *layout, uint64_t code, uint64_t code_type,
		     struct code_info *info);

/* Reads a str object as UTF-8 (compact ASCII or compact with a cached UTF-8 copy). */
int py_str_read(pid_t pid, const struct code_layout *layout, uint64_t str, char *out,
		size_t outlen);

#endif
