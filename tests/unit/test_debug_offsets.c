/* Parses crafted _Py_DebugOffsets blocks: the 3.13 and 3.14 layouts, and every way to refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "debug_offsets.h"
#include "interp.h"

static unsigned char block[PY_DEBUG_OFFSETS_MAX];

static void put(size_t at, uint64_t v)
{
	memcpy(block + at, &v, sizeof(v));
}

/* A block whose every u64 field holds 1000 + its byte position, so a field read from the
 * wrong place shows which place it was read from. */
static void craft(uint64_t version, uint64_t free_threaded, size_t size)
{
	memset(block, 0, sizeof(block));
	memcpy(block, "xdebugpy", 8);
	put(8, version);
	put(16, free_threaded);
	for (size_t at = 24; at + 8 <= size; at += 8)
		put(at, 1000 + at);
}

static void test_313_layout(void **state)
{
	(void)state;
	struct py_debug_offsets d;
	craft(0x030d05f0, 0, 584);
	assert_int_equal(debug_offsets_parse(block, 584, &d), DEBUG_OFFSETS_OK);
	assert_int_equal(d.version, 0x030d05f0);
	assert_int_equal(d.free_threaded, 0);
	assert_int_equal(d.struct_size, 584);
	/* positions from docs/interpreters.md §4 */
	assert_int_equal(d.runtime_interpreters_head, 1000 + 40);
	assert_int_equal(d.interp_threads_head, 1000 + 72);
	assert_int_equal(d.interp_threads_main, 0); /* 3.14 only */
	assert_int_equal(d.interp_imports_modules, 1000 + 88);
	assert_int_equal(d.interp_gil_holder, 1000 + 144);
	assert_int_equal(d.tstate_current_frame, 1000 + 184);
	assert_int_equal(d.tstate_native_thread_id, 1000 + 200);
	assert_int_equal(d.frame_previous, 1000 + 232);
	assert_int_equal(d.frame_executable, 1000 + 240);
	assert_int_equal(d.frame_instr_ptr, 1000 + 248);
	assert_int_equal(d.frame_owner, 1000 + 264);
	assert_int_equal(d.frame_stackpointer, 0); /* 3.14 only */
	assert_int_equal(d.code_filename, 1000 + 280);
	assert_int_equal(d.code_firstlineno, 1000 + 312);
	assert_int_equal(d.code_adaptive, 1000 + 344);
	assert_int_equal(d.obj_type, 1000 + 360);
	assert_int_equal(d.type_flags, 1000 + 392);
	assert_int_equal(d.dict_keys, 1000 + 456);
	assert_int_equal(d.long_lv_tag, 1000 + 496);
	assert_int_equal(d.bytes_data, 1000 + 528);
	assert_int_equal(d.str_ascii_size, 1000 + 560);
}

static void test_314_layout(void **state)
{
	(void)state;
	struct py_debug_offsets d;
	craft(0x030e0af0, 1, 760);
	assert_int_equal(debug_offsets_parse(block, 760, &d), DEBUG_OFFSETS_OK);
	assert_int_equal(d.version, 0x030e0af0);
	assert_int_equal(d.free_threaded, 1);
	assert_int_equal(d.struct_size, 760);
	assert_int_equal(d.interp_threads_main, 1000 + 80);
	assert_int_equal(d.interp_imports_modules, 1000 + 96);
	assert_int_equal(d.interp_gil_holder, 1000 + 152);
	assert_int_equal(d.tstate_current_frame, 1000 + 208);
	assert_int_equal(d.frame_owner, 1000 + 288);
	assert_int_equal(d.frame_stackpointer, 1000 + 296);
	assert_int_equal(d.code_adaptive, 1000 + 384);
	assert_int_equal(d.obj_type, 1000 + 408);
	assert_int_equal(d.type_flags, 1000 + 440);
	assert_int_equal(d.dict_keys, 1000 + 536);
	assert_int_equal(d.long_digits, 1000 + 584);
	assert_int_equal(d.str_ascii_size, 1000 + 640);
	/* any non-zero free_threaded word is a free-threaded build */
	craft(0x030e0af0, 0x100, 760);
	assert_int_equal(debug_offsets_parse(block, 760, &d), DEBUG_OFFSETS_OK);
	assert_int_equal(d.free_threaded, 1);
}

static void test_refusals(void **state)
{
	(void)state;
	struct py_debug_offsets d;
	craft(0x030d05f0, 0, 584);
	assert_int_equal(debug_offsets_parse(block, 583, &d), DEBUG_OFFSETS_TRUNCATED);
	assert_int_equal(debug_offsets_parse(block, 23, &d), DEBUG_OFFSETS_NO_COOKIE);
	assert_int_equal(debug_offsets_parse(block, 0, &d), DEBUG_OFFSETS_NO_COOKIE);
	craft(0x030e0af0, 0, 760);
	assert_int_equal(debug_offsets_parse(block, 584, &d), DEBUG_OFFSETS_TRUNCATED);
	block[0] = 'X';
	assert_int_equal(debug_offsets_parse(block, 760, &d), DEBUG_OFFSETS_NO_COOKIE);
	/* layouts we have no table for: earlier and later versions, other majors */
	const uint64_t unknown[] = {0x030c00f0, 0x030f00a0, 0x040d0000, 0};
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		craft(unknown[i], 0, 760);
		assert_int_equal(debug_offsets_parse(block, sizeof(block), &d),
				 DEBUG_OFFSETS_UNKNOWN_VERSION);
		assert_int_equal(d.version, unknown[i]);
	}
	/* a failed parse leaves nothing behind that looks like an offset */
	craft(0x030d05f0, 0, 584);
	assert_int_equal(debug_offsets_parse(block, 100, &d), DEBUG_OFFSETS_TRUNCATED);
	assert_int_equal(d.tstate_current_frame, 0);
}

static void test_flavour(void **state)
{
	(void)state;
	assert_string_equal(interp_flavour(0, 0), "release");
	assert_string_equal(interp_flavour(0, 1), "Py_DEBUG");
	assert_string_equal(interp_flavour(1, 0), "free-threaded");
	assert_string_equal(interp_flavour(1, 1), "free-threaded Py_DEBUG");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_313_layout),
	    cmocka_unit_test(test_314_layout),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_flavour),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
