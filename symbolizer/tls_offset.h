/* Where a thread-local variable of an executable lives relative to the thread pointer. */
#ifndef PYRACE_TLS_OFFSET_H
#define PYRACE_TLS_OFFSET_H

#include <stdint.h>

#include "elf_symbols.h"

/* The offset from the thread pointer (x86-64 %fs base) of TLS variable `name` of the executable
 * `t` (the static TLS block of the main program, which the loader places first, right below the
 * thread pointer). Its value comes from `t`'s symbols or its debug file. When `reader` (a
 * function whose body is `mov %fs:OFFSET,%rax`, e.g. _PyThreadState_GetCurrent) exists, its
 * instruction must agree. 0 when found; -1 when not derivable (no PT_TLS, no symbol, a shared
 * object, or a reader that disagrees). */
int tls_variable_offset(const struct symbol_table *t, const char *path, const char *name,
			const char *reader, int32_t *offset);

#endif /* PYRACE_TLS_OFFSET_H */
