/* Checks the x86-64 decoding that places probes on instructions the kernel emulates, with byte
 * sequences from Debian's 3.13 (objdump). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "x86_insn.h"

struct case_insn {
	const char *what;
	uint8_t bytes[16];
	size_t len;
	int emulated, ends_block;
};

static const struct case_insn cases[] = {
    {"endbr64", {0xf3, 0x0f, 0x1e, 0xfa}, 4, 0, 0},
    {"push %r15", {0x41, 0x57}, 2, 1, 0},
    {"push %rbp", {0x55}, 1, 1, 0},
    {"push %rbx (REX.W: not emulated)", {0x48, 0x53}, 2, 0, 0},
    {"sub $0x8,%rsp", {0x48, 0x83, 0xec, 0x08}, 4, 0, 0},
    {"movzbl 0x10(%rdi),%eax", {0x0f, 0xb6, 0x47, 0x10}, 4, 0, 0},
    {"test $0x1,%al", {0xa8, 0x01}, 2, 0, 0},
    {"je rel32", {0x0f, 0x84, 0x50, 0x9c, 0xe5, 0xff}, 6, 1, 1},
    {"jne rel8", {0x75, 0x10}, 2, 1, 1},
    {"lea 0x40(%rsp),%r14", {0x4c, 0x8d, 0x74, 0x24, 0x40}, 5, 0, 0},
    {"call rel32", {0xe8, 0x5e, 0xc4, 0x00, 0x00}, 5, 1, 1},
    {"jmp rel32", {0xe9, 0x00, 0x46, 0xdb, 0xff}, 5, 1, 1},
    {"mov %fs:0xffffffffffffffe8,%rax",
     {0x64, 0x48, 0x8b, 0x04, 0x25, 0xe8, 0xff, 0xff, 0xff},
     9,
     0,
     0},
    {"mov 0x14290(%r14,%rbp,1),%rax", {0x49, 0x8b, 0x84, 0x2e, 0x90, 0x42, 0x01, 0x00}, 8, 0, 0},
    {"movq $0x0,0x50(%rsp)", {0x48, 0xc7, 0x44, 0x24, 0x50, 0, 0, 0, 0}, 9, 0, 0},
    {"mov $0xa084f0,%eax", {0xb8, 0xf0, 0x84, 0xa0, 0x00}, 5, 0, 0},
    {"movabs $imm64,%rax", {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}, 10, 0, 0},
    {"lock cmpxchg %cl,(%rdx)", {0xf0, 0x0f, 0xb0, 0x0a}, 4, 0, 0},
    {"addl $0x1,0x34(%r13)", {0x41, 0x83, 0x45, 0x34, 0x01}, 5, 0, 0},
    {"ret", {0xc3}, 1, 0, 1},
    {"call *%rax", {0xff, 0xd0}, 2, 0, 1},
    {"nop", {0x90}, 1, 1, 0},
    {"data16 nop (operand-size prefix: not emulated)", {0x66, 0x90}, 2, 0, 0},
    {"testb $0x1,(%rdi) (group 3 with imm8)", {0xf6, 0x07, 0x01}, 3, 0, 0},
    {"notl (%rdi) (group 3 without immediate)", {0xf7, 0x17}, 2, 0, 0},
    {"mov 0x2d5959(%rip),%rax", {0x48, 0x8b, 0x05, 0x59, 0x59, 0x2d, 0x00}, 7, 0, 0},
};

static void test_decodes_known_instructions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct x86_insn insn;
		if (!x86_insn_decode(cases[i].bytes, cases[i].len, &insn))
			fail_msg("%s: not decoded", cases[i].what);
		if (insn.len != cases[i].len || insn.emulated != cases[i].emulated ||
		    insn.ends_block != cases[i].ends_block)
			fail_msg("%s: length %zu emulated %d ends %d", cases[i].what, insn.len,
				 insn.emulated, insn.ends_block);
	}
}

static void test_refuses_what_it_does_not_know(void **state)
{
	(void)state;
	struct x86_insn insn;
	static const uint8_t vex[] = {0xc5, 0xf8, 0x77};       /* vzeroupper */
	static const uint8_t cut[] = {0x0f, 0x84, 0x50, 0x9c}; /* je rel32, truncated */
	static const uint8_t three_byte[] = {0x66, 0x0f, 0x38, 0x00, 0xc1}; /* pshufb */
	assert_int_equal(x86_insn_decode(vex, sizeof(vex), &insn), 0);
	assert_int_equal(x86_insn_decode(cut, sizeof(cut), &insn), 0);
	assert_int_equal(x86_insn_decode(three_byte, sizeof(three_byte), &insn), 0);
	assert_int_equal(x86_insn_decode(vex, 0, &insn), 0);
}

/* lock_PyThread_release_lock of Debian's 3.13, from its first byte: the first instruction the
 * kernel emulates is the je at +14. */
static void test_walks_an_entry_block(void **state)
{
	(void)state;
	static const uint8_t code[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xec, 0x08,
				       0x0f, 0xb6, 0x47, 0x10, 0xa8, 0x01, 0x0f, 0x84,
				       0x50, 0x9c, 0xe5, 0xff, 0x89, 0xc1};
	size_t off = 0;
	struct x86_insn insn;
	while (off < sizeof(code) && x86_insn_decode(code + off, sizeof(code) - off, &insn) &&
	       !insn.emulated)
		off += insn.len;
	assert_int_equal(off, 14);
	assert_true(insn.ends_block);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decodes_known_instructions),
	    cmocka_unit_test(test_refuses_what_it_does_not_know),
	    cmocka_unit_test(test_walks_an_entry_block),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
