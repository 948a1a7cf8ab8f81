/* Checks the .note.stapsdt parser on hand-made notes and against readelf on Debian's python3.11.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "usdt_notes.h"

#define SYSTEM_PYTHON "/usr/bin/python3.11"

struct note_buf {
	uint8_t data[1024];
	size_t len;
};

static void put(struct note_buf *b, const void *p, size_t n)
{
	assert_true(b->len + n <= sizeof(b->data));
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void pad4(struct note_buf *b)
{
	while (b->len % 4)
		b->data[b->len++] = 0;
}

/* Appends one note as GCC's sys/sdt.h lays it out (owner `owner`, type `type`). */
static void add_note(struct note_buf *b, const char *owner, uint32_t type, uint64_t pc,
		     uint64_t base, uint64_t sem, const char *provider, const char *name,
		     const char *args)
{
	uint8_t desc[256];
	size_t n = 0;
	memcpy(desc + n, &pc, 8), n += 8;
	memcpy(desc + n, &base, 8), n += 8;
	memcpy(desc + n, &sem, 8), n += 8;
	for (const char *s = provider;; s = name) {
		size_t l = strlen(s) + 1;
		memcpy(desc + n, s, l);
		n += l;
		if (s == name)
			break;
	}
	size_t l = strlen(args) + 1;
	memcpy(desc + n, args, l);
	n += l;
	uint32_t namesz = (uint32_t)strlen(owner) + 1, descsz = (uint32_t)n;
	put(b, &namesz, 4);
	put(b, &descsz, 4);
	put(b, &type, 4);
	put(b, owner, namesz);
	pad4(b);
	put(b, desc, n);
	pad4(b);
}

static void finds_probe_among_others(void **state)
{
	(void)state;
	struct note_buf b = {0};
	add_note(&b, "GNU", 3, 1, 2, 3, "python", "line", "");
	add_note(&b, "stapsdt", 3, 0x42ec0f, 0x8c99c0, 0xa7ed4e, "python", "gc__start", "-4@%eax");
	add_note(&b, "stapsdt", 3, 0x42ec0f, 0x8c99c0, 0xa7ed4c, "python", "line",
		 "8@%r14 8@%rax -4@%ebp");
	struct usdt_probe p;
	assert_int_equal(usdt_notes_find(b.data, b.len, 0x8c99c0, "python", "line", &p), 0);
	assert_int_equal(p.pc, 0x42ec0f);
	assert_int_equal(p.semaphore, 0xa7ed4c);
	assert_string_equal(p.args, "8@%r14 8@%rax -4@%ebp");
	assert_string_equal(p.provider, "python");
	assert_int_equal(usdt_notes_find(b.data, b.len, 0, "python", "function__entry", &p), -1);
	assert_int_equal(usdt_notes_find(b.data, b.len, 0, "other", "line", &p), -1);
}

/* A note made before prelink moved the file: pc and semaphore move with .stapsdt.base. */
static void applies_base_shift(void **state)
{
	(void)state;
	struct note_buf b = {0};
	add_note(&b, "stapsdt", 3, 0x1000, 0x5000, 0x9000, "p", "n", "");
	struct usdt_probe p;
	assert_int_equal(usdt_notes_find(b.data, b.len, 0x6000, "p", "n", &p), 0);
	assert_int_equal(p.pc, 0x2000);
	assert_int_equal(p.semaphore, 0xa000);
	/* no semaphore stays none */
	b.len = 0;
	add_note(&b, "stapsdt", 3, 0x1000, 0x5000, 0, "p", "n", "");
	assert_int_equal(usdt_notes_find(b.data, b.len, 0x6000, "p", "n", &p), 0);
	assert_int_equal(p.semaphore, 0);
}

/* Sizes that run past the section, strings without their NUL: refused, never read past. */
static void rejects_malformed(void **state)
{
	(void)state;
	struct note_buf b = {0};
	add_note(&b, "stapsdt", 3, 1, 0, 2, "python", "line", "");
	struct usdt_probe p;
	/* header, "stapsdt\0", three addresses and the three strings: the padding after them
	 * may be missing */
	size_t whole = 12 + 8 + 24 + sizeof("python") + sizeof("line") + 1;
	for (size_t cut = 0; cut < whole; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, b.data, cut);
		assert_int_equal(usdt_notes_find(copy, cut, 0, "python", "line", &p), -1);
		free(copy);
	}
	uint32_t huge = 0xfffffff0u;
	memcpy(b.data + 4, &huge, 4);
	assert_int_equal(usdt_notes_find(b.data, b.len, 0, "python", "line", &p), -1);
	memcpy(b.data, &huge, 4);
	assert_int_equal(usdt_notes_find(b.data, b.len, 0, "python", "line", &p), -1);
}

/* The same pc and semaphore as readelf -n prints for Debian's interpreter. */
static void matches_readelf(void **state)
{
	(void)state;
	if (access(SYSTEM_PYTHON, R_OK) != 0)
		skip();
	FILE *f = popen("readelf -n " SYSTEM_PYTHON " | grep -A1 'Name: line$' | tail -1", "r");
	assert_non_null(f);
	unsigned long long pc = 0, base = 0, sem = 0;
	int got = fscanf(f, " Location: %llx, Base: %llx, Semaphore: %llx", &pc, &base, &sem);
	pclose(f);
	assert_int_equal(got, 3);
	struct usdt_probe p;
	char why[256];
	assert_int_equal(usdt_find(SYSTEM_PYTHON, "python", "line", &p, why, sizeof(why)), 0);
	assert_int_equal(p.pc, pc);
	assert_int_equal(p.semaphore, sem);
	assert_true(p.pc_offset != 0 && p.sem_offset != 0);
	assert_int_equal(usdt_find(SYSTEM_PYTHON, "python", "no_such", &p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no USDT probe python:no_such"));
}

static void file_without_notes(void **state)
{
	(void)state;
	struct usdt_probe p;
	char why[256];
	/* this test binary is built without sys/sdt.h */
	assert_int_equal(usdt_find("/proc/self/exe", "python", "line", &p, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "has no USDT probes"));
	assert_int_equal(usdt_find("/nonexistent", "python", "line", &p, why, sizeof(why)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(finds_probe_among_others), cmocka_unit_test(applies_base_shift),
	    cmocka_unit_test(rejects_malformed),	cmocka_unit_test(matches_readelf),
	    cmocka_unit_test(file_without_notes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
