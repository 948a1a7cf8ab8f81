/* dwarf_types: member offsets, bit-fields, struct sizes and enumerators read from this test's
 * own DWARF (it is built with -g), checked against what the compiler says with offsetof. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "dwarf_types.h"

struct sample_header {
	uint64_t tid;
	uint16_t padding;
	uint8_t mutex, gc_bits;
	uint32_t ref_local;
	int64_t ref_shared;
	void *type;
};

typedef struct {
	struct sample_header base;
	int64_t length;
	struct {
		unsigned int interned : 2;
		unsigned int kind : 3;
		unsigned int compact : 1;
		unsigned int ascii : 1;
		unsigned int : 25;
	} state;
	char data[];
} sample_string;

struct sample_pair {
	int32_t head;
	int64_t main;
};

enum sample_owner { SAMPLE_OWNED_BY_THREAD, SAMPLE_OWNED_BY_GENERATOR, SAMPLE_OWNED_BY_CSTACK = 7 };

/* used, so that the compiler describes the types */
sample_string sample_str;
struct sample_pair sample_pairs[2];
enum sample_owner sample_owner = SAMPLE_OWNED_BY_CSTACK;

static struct dwarf_file *self_dwarf(void)
{
	struct dwarf_file *df = dwarf_file_open("/proc/self/exe");
	assert_non_null(df);
	return df;
}

static void test_members(void **state)
{
	(void)state;
	struct dwarf_file *df = self_dwarf();
	struct dwarf_member m;
	assert_int_equal(dwarf_struct_member(df, "sample_string", "length", &m), 0);
	assert_int_equal(m.byte_offset, offsetof(sample_string, length));
	assert_int_equal(m.bit_size, 64);
	/* through the typedef or the tag, into a nested struct */
	assert_int_equal(dwarf_struct_member(df, "sample_string", "base.type", &m), 0);
	assert_int_equal(m.byte_offset, offsetof(sample_string, base.type));
	assert_int_equal(dwarf_struct_member(df, "sample_header", "ref_shared", &m), 0);
	assert_int_equal(m.byte_offset, offsetof(struct sample_header, ref_shared));
	/* a flexible array member has an offset and no size */
	assert_int_equal(dwarf_struct_member(df, "sample_string", "data", &m), 0);
	assert_int_equal(m.byte_offset, offsetof(sample_string, data));
	assert_int_equal(m.bit_size, 0);
	/* distance to the pair's second member */
	assert_int_equal(dwarf_struct_member(df, "sample_pair", "main", &m), 0);
	assert_int_equal(m.byte_offset, offsetof(struct sample_pair, main));
	assert_int_not_equal(dwarf_struct_member(df, "sample_string", "nosuch", &m), 0);
	assert_int_not_equal(dwarf_struct_member(df, "no_such_struct", "length", &m), 0);
	assert_int_not_equal(dwarf_struct_member(df, "sample_string", "length.x", &m), 0);
	dwarf_file_close(df);
}

static void test_bitfields(void **state)
{
	(void)state;
	struct dwarf_file *df = self_dwarf();
	struct dwarf_member m;
	size_t state_bits = offsetof(sample_string, state) * 8;
	/* the bits, counted from the struct's first bit, as a u32 read at `state` sees them */
	sample_string probe = {0};
	probe.state.compact = 1;
	uint32_t word;
	memcpy(&word, (char *)&probe + offsetof(sample_string, state), 4);
	assert_int_equal(dwarf_struct_member(df, "sample_string", "state.compact", &m), 0);
	assert_int_equal(m.bit_size, 1);
	assert_int_equal(word, 1u << (m.bit_offset - state_bits));
	assert_int_equal(dwarf_struct_member(df, "sample_string", "state.kind", &m), 0);
	assert_int_equal(m.bit_size, 3);
	assert_int_equal(m.bit_offset - state_bits, 2);
	assert_int_equal(m.byte_offset, offsetof(sample_string, state));
	dwarf_file_close(df);
}

static void test_sizes_and_enumerators(void **state)
{
	(void)state;
	struct dwarf_file *df = self_dwarf();
	uint64_t size = 0;
	int64_t value = -1;
	assert_int_equal(dwarf_struct_size(df, "sample_header", &size), 0);
	assert_int_equal(size, sizeof(struct sample_header));
	assert_int_equal(dwarf_struct_size(df, "sample_string", &size), 0);
	assert_int_equal(size, sizeof(sample_string));
	assert_int_equal(dwarf_enumerator(df, "SAMPLE_OWNED_BY_CSTACK", &value), 0);
	assert_int_equal(value, 7);
	assert_int_equal(dwarf_enumerator(df, "SAMPLE_OWNED_BY_GENERATOR", &value), 0);
	assert_int_equal(value, 1);
	assert_int_not_equal(dwarf_enumerator(df, "SAMPLE_NO_SUCH", &value), 0);
	assert_int_not_equal(dwarf_struct_size(NULL, "sample_header", &size), 0);
	dwarf_file_close(df);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_members),
	    cmocka_unit_test(test_bitfields),
	    cmocka_unit_test(test_sizes_and_enumerators),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
