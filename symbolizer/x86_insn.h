/* Just enough x86-64 decoding to place a uprobe where the kernel runs it cheaply. */
#ifndef PYRACE_X86_INSN_H
#define PYRACE_X86_INSN_H

#include <stddef.h>
#include <stdint.h>

struct x86_insn {
	size_t len;
	/* the kernel's uprobes emulate it (push of a register, jmp/call/jcc with a relative
	 * target, nop): a hit costs ~0.5 us, where an instruction it must single-step out of line
	 * costs ~9 us on the machines measured (docs/interpreters.md §12) */
	int emulated;
	int ends_block; /* a jump, call or return: what follows may not run */
};

/* Decodes the instruction at `code` (`avail` bytes readable). 0 when it is not one this
 * decoder knows (VEX/EVEX encodings, far jumps, ...): callers stop there. */
int x86_insn_decode(const uint8_t *code, size_t avail, struct x86_insn *out);

#endif
