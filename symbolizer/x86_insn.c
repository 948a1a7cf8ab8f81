/* Just enough x86-64 decoding to place a uprobe where the kernel runs it cheaply: instruction
 * lengths of the one- and two-byte opcode maps in 64-bit mode, and which instructions
 * arch/x86/kernel/uprobes.c emulates instead of single-stepping (push_setup_xol_ops: push of a
 * register, also r8-r15 with REX.B; branch_setup_xol_ops: jmp rel8/rel32, call rel32, jcc
 * rel8/rel32, nop 0x90, none of them with an operand-size prefix). */
#include "x86_insn.h"

#include <string.h>

enum {
	NONE = 0,
	MODRM = 1,    /* a ModRM byte (and SIB and displacement) follows */
	IMM8 = 2,     /* an 8-bit immediate follows */
	IMMZ = 4,     /* a 16- or 32-bit immediate (operand size) */
	IMM16 = 8,    /* a 16-bit immediate */
	BAD = 16,     /* invalid in 64-bit mode, a prefix handled before, or not decoded here */
	END = 32,     /* ends the block: jumps, calls, returns */
	MOFFS = 64,   /* an address-sized offset (mov al/eax, [moffs]) */
	IMMV = 128,   /* mov reg, imm: 32 bits, 64 with REX.W */
	GROUP3 = 256, /* f6/f7: an immediate only for /0 and /1 (test) */
	GROUP5 = 512, /* ff: /2../5 are indirect calls and jumps */
};

/* The one-byte opcode map. */
static unsigned one_byte(uint8_t op)
{
	if (op < 0x40) {
		if ((op & 7) < 4)
			return MODRM;
		if ((op & 7) == 4)
			return IMM8;
		if ((op & 7) == 5)
			return IMMZ;
		return BAD; /* push/pop segment, daa..., prefixes, 0x0f: handled by the caller */
	}
	if (op < 0x50)
		return BAD; /* REX */
	if (op < 0x60)
		return NONE; /* push/pop register */
	switch (op) {
	case 0x63:
		return MODRM;
	case 0x68:
		return IMMZ;
	case 0x69:
		return MODRM | IMMZ;
	case 0x6a:
		return IMM8;
	case 0x6b:
		return MODRM | IMM8;
	case 0x6c:
	case 0x6d:
	case 0x6e:
	case 0x6f:
		return NONE;
	case 0x80:
	case 0x82:
	case 0x83:
	case 0xc0:
	case 0xc1:
	case 0xc6:
		return MODRM | IMM8;
	case 0x81:
	case 0xc7:
		return MODRM | IMMZ;
	case 0xa0:
	case 0xa1:
	case 0xa2:
	case 0xa3:
		return MOFFS;
	case 0xa8:
		return IMM8;
	case 0xa9:
		return IMMZ;
	case 0xc2:
		return IMM16 | END;
	case 0xc3:
	case 0xcb:
		return END;
	case 0xc8:
		return IMM16 | IMM8;
	case 0xc9:
	case 0xcc:
		return NONE;
	case 0xcd:
		return IMM8;
	case 0xe8:
	case 0xe9:
		return IMMZ | END;
	case 0xeb:
		return IMM8 | END;
	case 0xf6:
	case 0xf7:
		return MODRM | GROUP3;
	case 0xfe:
		return MODRM;
	case 0xff:
		return MODRM | GROUP5;
	}
	if (op >= 0x70 && op <= 0x7f)
		return IMM8 | END;
	if (op >= 0x84 && op <= 0x8f)
		return MODRM;
	if (op >= 0x90 && op <= 0x9f)
		return op == 0x9a ? BAD : NONE;
	if (op >= 0xa4 && op <= 0xaf)
		return NONE;
	if (op >= 0xb0 && op <= 0xb7)
		return IMM8;
	if (op >= 0xb8 && op <= 0xbf)
		return IMMV;
	if (op >= 0xd0 && op <= 0xd3)
		return MODRM;
	if (op >= 0xd8 && op <= 0xdf)
		return MODRM; /* x87 */
	if (op >= 0xe0 && op <= 0xe3)
		return IMM8 | END;
	if (op >= 0xe4 && op <= 0xe7)
		return IMM8;
	if (op >= 0xec && op <= 0xef)
		return NONE;
	if (op >= 0xf8 && op <= 0xfd)
		return NONE;
	return BAD;
}

/* The two-byte map (0x0f xx). */
static unsigned two_byte(uint8_t op)
{
	switch (op) {
	case 0x05: /* syscall */
	case 0x06:
	case 0x07:
	case 0x08:
	case 0x09:
	case 0x0b: /* ud2 */
	case 0x0e:
	case 0x30:
	case 0x31: /* rdtsc */
	case 0x32:
	case 0x33:
	case 0x34:
	case 0x35:
	case 0x77:
	case 0xa0:
	case 0xa1:
	case 0xa2: /* cpuid */
	case 0xa8:
	case 0xa9:
		return NONE;
	case 0x38:
	case 0x3a:
	case 0x0f:
		return BAD; /* three-byte maps and 3DNow!: not decoded */
	case 0x70:
	case 0x71:
	case 0x72:
	case 0x73:
	case 0xa4:
	case 0xac:
	case 0xba:
	case 0xc2:
	case 0xc4:
	case 0xc5:
	case 0xc6:
		return MODRM | IMM8;
	}
	if (op >= 0x80 && op <= 0x8f)
		return IMMZ | END; /* jcc rel32 */
	if (op >= 0xc8 && op <= 0xcf)
		return NONE; /* bswap */
	return MODRM;
}

static int is_legacy_prefix(uint8_t b)
{
	return b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 || b == 0xf3 || b == 0x2e ||
	       b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65;
}

/* Length of ModRM, SIB and displacement starting at `p`; 0 when they run past `end`. */
static size_t modrm_length(const uint8_t *p, const uint8_t *end)
{
	if (p >= end)
		return 0;
	uint8_t modrm = *p, mod = modrm >> 6, rm = modrm & 7;
	size_t n = 1;
	if (mod == 3)
		return n;
	if (rm == 4) {
		if (p + 1 >= end)
			return 0;
		uint8_t base = p[1] & 7;
		n++;
		if (mod == 0 && base == 5)
			n += 4;
	} else if (mod == 0 && rm == 5) {
		n += 4; /* rip-relative */
	}
	if (mod == 1)
		n += 1;
	else if (mod == 2)
		n += 4;
	return p + n <= end ? n : 0;
}

int x86_insn_decode(const uint8_t *code, size_t avail, struct x86_insn *out)
{
	const uint8_t *p = code, *end = code + avail;
	int opsize16 = 0, addr32 = 0, rex_w = 0, prefixes = 0, rex = 0;
	memset(out, 0, sizeof(*out));
	while (p < end && is_legacy_prefix(*p)) {
		opsize16 |= *p == 0x66;
		addr32 |= *p == 0x67;
		prefixes++;
		p++;
	}
	if (p < end && (*p & 0xf0) == 0x40) {
		rex = *p;
		rex_w = (rex & 8) != 0;
		p++;
	}
	if (p >= end)
		return 0;
	uint8_t op = *p++, op2 = 0;
	unsigned attrs;
	if (op == 0x0f) {
		if (p >= end)
			return 0;
		op2 = *p++;
		attrs = two_byte(op2);
	} else {
		attrs = one_byte(op);
	}
	if (attrs & BAD)
		return 0;
	uint8_t reg = 0;
	if (attrs & MODRM) {
		size_t n = modrm_length(p, end);
		if (!n)
			return 0;
		reg = (p[0] >> 3) & 7;
		p += n;
	}
	size_t imm = 0;
	if (attrs & IMM8)
		imm += 1;
	if (attrs & IMM16)
		imm += 2;
	if (attrs & IMMZ)
		imm += opsize16 && !(attrs & END) ? 2 : 4;
	if (attrs & IMMV)
		imm += rex_w ? 8 : opsize16 ? 2 : 4;
	if (attrs & MOFFS)
		imm += addr32 ? 4 : 8;
	if ((attrs & GROUP3) && reg < 2)
		imm += op == 0xf6 ? 1 : (opsize16 ? 2 : 4);
	if (p + imm > end)
		return 0;
	out->len = (size_t)(p + imm - code);
	out->ends_block = (attrs & END) != 0 || ((attrs & GROUP5) && reg >= 2 && reg <= 5);
	int jump = op == 0xe8 || op == 0xe9 || op == 0xeb || (op >= 0x70 && op <= 0x7f) ||
		   (op == 0x0f && op2 >= 0x80 && op2 <= 0x8f);
	int push = op >= 0x50 && op <= 0x57 && (!rex || rex == 0x41) && !prefixes;
	out->emulated = push || (!opsize16 && !rex && (jump || (op == 0x90 && !prefixes)));
	return 1;
}
