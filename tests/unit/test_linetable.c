/* Checks the co_linetable decoder against the lines CPython itself reports (co_positions()) for
 * every code unit of tricky generated code and of real stdlib modules, under the interpreters
 * installed here, and checks it stays safe and in range on truncated and corrupt tables. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "linetable.h"

/* Run by each interpreter: compiles tricky code (decorators, loops jumping back, multi-line
 * expressions, handlers, comprehensions, nested/async functions, match, line gaps and backward
 * jumps of 100 to 3000 lines, columns past 127, a module of more than 4000 lines) and a few stdlib
 * modules, then prints one line per code object, walking co_consts recursively: C <co_qualname>
 * <co_firstlineno> <co_linetable hex or -> <code units> <line of unit 0> ... where the line of code
 * unit i is the i-th co_positions() entry's start line (None as -1). */
static const char dump_script[] =
    "import sys, importlib.util\n"
    "if sys.version_info < (3, 11):\n"
    "    sys.exit('co_linetable format needs Python >= 3.11')\n"
    "L = ['import functools', 'def deco(f):', '    return f', '', '@deco',\n"
    "     '@functools.lru_cache(', '    maxsize=None,', ')', 'def decorated(a, b):',\n"
    "     '    return (a +', '            b)', 'def loops(n):', '    total = 0',\n"
    "     '    for i in range(n):', '        while total < i:', '            total += 1',\n"
    "     '        else:', '            total -= 1', '    return total',\n"
    "     'def multiline(x):', '    y = [x,', '         x + 1,', '         x + 2]',\n"
    "     '    return {k: v', '            for k, v in zip(', '                y,',\n"
    "     '                y)}', 'def handlers(path):', '    try:',\n"
    "     '        with open(path) as f:', '            return f.read()',\n"
    "     '    except (OSError, ValueError) as e:',\n"
    "     '        raise RuntimeError(str(e)) from e', '    finally:',\n"
    "     '        print(path)', 'def nested(a):', '    def inner(b):',\n"
    "     '        def innermost(c):',\n"
    "     '            return [a + b + c for _ in range(c) if _ % 2]',\n"
    "     '        return innermost', '    return lambda z: inner(z)(a)',\n"
    "     'async def coro(q):', '    async with q as r:', '        async for item in r:',\n"
    "     '            await item', '    return [x async for x in r]', 'def gen(n):',\n"
    "     '    yield from range(n)', '    x = yield n', '    return x', 'def matcher(v):',\n"
    "     '    match v:', '        case {1: [1, *rest]} if rest:', '            return rest',\n"
    "     '        case Point(x=0, y=yy) | Point(x=yy, y=0):', '            return yy',\n"
    "     '        case _:', '            pass', 'class Klass:', '    attr = 1',\n"
    "     '    def method(self):', '        return super().method()', '    @property',\n"
    "     '    def prop(self):', '        return self.attr', 'def gaps(x):', '    x += 1']\n"
    "L += [''] * 100 + ['    x += 2'] + ['    # comment'] * 300 + ['    return x']\n"
    "L += ['def big_loop(n):', '    s = 0', '    for i in range(n):']\n"
    "L += ['        s += i * %d' % k for k in range(90)] + [''] * 3000 + ['        s -= 1']\n"
    "L += ['    return s', 'def wide(a):']\n"
    "for k in range(0, 150, 3):\n"
    "    L += ['    a = (' + ' ' * k + 'a + 1)', '']\n"
    "L += ['    return ' + ' + '.join(['a'] * 60), 'def implicit_none(x):', '    if x:',\n"
    "      '        print(x)']\n"
    "L += ['# filler'] * (1200 - len(L)) + ['late = [i for i in range(3)]'] + [''] * 3000\n"
    "L += ['def late_function(a, b=(1,', '                          2)):',\n"
    "      '    return a if b else (', '        b)', 'late_function(late)']\n"
    "codes = [compile('\\n'.join(L) + '\\n', '<tricky>', 'exec')]\n"
    "for name in ('threading', 'json.decoder', 'concurrent.futures.thread',\n"
    "             'asyncio.base_events', 'typing', 'dataclasses'):\n"
    "    origin = importlib.util.find_spec(name).origin\n"
    "    with open(origin, 'rb') as f:\n"
    "        codes.append(compile(f.read(), origin, 'exec'))\n"
    "out = []\n"
    "def walk(co):\n"
    "    lines = [-1 if p[0] is None else p[0] for p in co.co_positions()]\n"
    "    if len(lines) != len(co.co_code) // 2:\n"
    "        sys.exit('co_positions() does not give one entry per code unit')\n"
    "    out.append('C %s %d %s %d %s' % (co.co_qualname, co.co_firstlineno,\n"
    "                                     co.co_linetable.hex() or '-', len(lines),\n"
    "                                     ' '.join(map(str, lines))))\n"
    "    for c in co.co_consts:\n"
    "        if isinstance(c, type(co)):\n"
    "            walk(c)\n"
    "for co in codes:\n"
    "    walk(co)\n"
    "sys.stdout.write('\\n'.join(out) + '\\n')\n";

/* One code object as dumped by dump_script. */
struct code_obj {
	char *name;
	int first_line;
	uint8_t *table;
	size_t len;
	uint32_t units;
	int *lines; /* lines[i]: CPython's line for code unit i, -1 for none */
};

struct dump {
	struct code_obj *objs;
	size_t count;
};

/* Interpreters the decoder is checked against, each run with and without column info (with
 * -X no_debug_ranges every located entry uses the no-column form, code 13). */
enum { SYSTEM_PY, SYSTEM_PY_NO_COLUMNS, PATH_PY, PATH_PY_NO_COLUMNS, N_DUMPS };
static const char *const dump_python[N_DUMPS] = {"/usr/bin/python3.11", "/usr/bin/python3.11",
						 "python3", "python3"};
static const char *const dump_flags[N_DUMPS] = {"", " -X no_debug_ranges", "",
						" -X no_debug_ranges"};
static struct dump dumps[N_DUMPS];
static bool dump_loaded[N_DUMPS];

static size_t checked_objs, checked_units;

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool next_long(char **save, long *value)
{
	char *tok = strtok_r(NULL, " \n", save), *end;

	if (!tok)
		return false;
	*value = strtol(tok, &end, 10);
	return *end == '\0';
}

/* Parses one dump line into *o (which is left zeroed or owning what it holds). */
static bool parse_code_obj(char *line, struct code_obj *o)
{
	char *save, *tok;
	long v;
	size_t i;

	memset(o, 0, sizeof(*o));
	tok = strtok_r(line, " \n", &save);
	if (!tok || strcmp(tok, "C") != 0)
		return false;
	tok = strtok_r(NULL, " \n", &save);
	if (!tok || !(o->name = strdup(tok)))
		return false;
	if (!next_long(&save, &v) || v < 0 || v > INT_MAX)
		return false;
	o->first_line = (int)v;
	tok = strtok_r(NULL, " \n", &save);
	if (!tok)
		return false;
	if (strcmp(tok, "-") != 0) {
		if (strlen(tok) % 2 != 0)
			return false;
		o->len = strlen(tok) / 2;
		o->table = malloc(o->len);
		if (!o->table)
			return false;
		for (i = 0; i < o->len; i++) {
			int hi = hex_digit(tok[2 * i]), lo = hex_digit(tok[2 * i + 1]);

			if (hi < 0 || lo < 0)
				return false;
			o->table[i] = (uint8_t)(hi << 4 | lo);
		}
	}
	if (!next_long(&save, &v) || v < 0 || v > INT32_MAX)
		return false;
	o->units = (uint32_t)v;
	o->lines = calloc(o->units ? o->units : 1, sizeof(int));
	if (!o->lines)
		return false;
	for (i = 0; i < o->units; i++) {
		if (!next_long(&save, &v) || v < -1 || v > INT_MAX)
			return false;
		o->lines[i] = (int)v;
	}
	return strtok_r(NULL, " \n", &save) == NULL;
}

static void free_code_obj(struct code_obj *o)
{
	free(o->name);
	free(o->table);
	free(o->lines);
}

/* Runs dump_script under dump_python[which] and parses its output; fails the test when the
 * interpreter is missing, fails or prints something unexpected. */
static const struct dump *load_dump(int which)
{
	struct dump *d = &dumps[which];
	char *cmd, *hex, *line = NULL;
	size_t i, cap = 0, alloc = 0;
	bool parsed = true;
	FILE *p;
	int status;

	if (dump_loaded[which])
		return d;
	/* Drop what an earlier, failed attempt left. */
	for (i = 0; i < d->count; i++)
		free_code_obj(&d->objs[i]);
	free(d->objs);
	d->objs = NULL;
	d->count = 0;
	/* Passed hex-encoded so no shell quoting can get in the way. */
	hex = malloc(2 * sizeof(dump_script) + 1);
	assert_non_null(hex);
	for (i = 0; dump_script[i]; i++)
		sprintf(hex + 2 * i, "%02x", (unsigned char)dump_script[i]);
	hex[2 * i] = '\0';
	assert_true(asprintf(&cmd, "'%s'%s -c \"exec(bytes.fromhex('%s'))\"", dump_python[which],
			     dump_flags[which], hex) > 0);
	free(hex);
	p = popen(cmd, "r");
	free(cmd);
	assert_non_null(p);
	while (getline(&line, &cap, p) > 0) {
		if (d->count == alloc) {
			alloc = alloc ? 2 * alloc : 256;
			d->objs = realloc(d->objs, alloc * sizeof(*d->objs));
			assert_non_null(d->objs);
		}
		if (!parse_code_obj(line, &d->objs[d->count])) {
			parsed = false;
			free_code_obj(&d->objs[d->count]);
			break;
		}
		d->count++;
	}
	free(line);
	status = pclose(p);
	if (!parsed)
		fail_msg("'%s%s' printed a line that is not a code object dump", dump_python[which],
			 dump_flags[which]);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("'%s%s' failed (wait status %#x): is it installed, and Python >= 3.11?",
			 dump_python[which], dump_flags[which], (unsigned int)status);
	/* The stdlib modules alone give hundreds of code objects. */
	assert_true(d->count >= 100);
	dump_loaded[which] = true;
	return d;
}

/* Asserts that both look-up paths agree with CPython on every code unit of every code object. */
static void check_dump(int which, bool seen_codes[16])
{
	const struct dump *d = load_dump(which);
	size_t i, mismatches = 0;
	uint32_t u;

	for (i = 0; i < d->count; i++) {
		const struct code_obj *o = &d->objs[i];
		struct linetable_range *ranges;
		size_t n, j;

		for (j = 0; j < o->len; j++) {
			if (o->table[j] & 0x80)
				seen_codes[(o->table[j] >> 3) & 15] = true;
		}
		assert_int_equal(linetable_decode(o->table, o->len, o->first_line, &ranges, &n), 0);
		for (u = 0; u < o->units; u++) {
			int direct = linetable_line_for_instr(o->table, o->len, o->first_line, u);
			int looked_up = linetable_ranges_lookup(ranges, n, u);

			if (direct == o->lines[u] && looked_up == o->lines[u])
				continue;
			if (mismatches++ < 10)
				print_error("%s%s: %s (first line %d) unit %u: python %d, "
					    "decoder %d, ranges %d\n",
					    dump_python[which], dump_flags[which], o->name,
					    o->first_line, u, o->lines[u], direct, looked_up);
		}
		/* The table covers exactly the code units. */
		assert_int_equal(
		    linetable_line_for_instr(o->table, o->len, o->first_line, o->units), -1);
		assert_int_equal(linetable_ranges_lookup(ranges, n, o->units), -1);
		free(ranges);
		checked_units += o->units;
	}
	checked_objs += d->count;
	assert_int_equal(mismatches, 0);
}

static void check_interpreter(int with_columns, int without_columns)
{
	bool seen_codes[16] = {false};
	int code;

	check_dump(with_columns, seen_codes);
	check_dump(without_columns, seen_codes);
	/* The inputs really exercise every entry form. */
	for (code = 0; code < 16; code++) {
		if (!seen_codes[code])
			fail_msg("no table from %s has an entry with code %d",
				 dump_python[with_columns], code);
	}
}

static void test_matches_system_python311(void **state)
{
	(void)state;
	check_interpreter(SYSTEM_PY, SYSTEM_PY_NO_COLUMNS);
}

static void test_matches_python3_on_path(void **state)
{
	(void)state;
	check_interpreter(PATH_PY, PATH_PY_NO_COLUMNS);
}

/* Code units covered by the entries that lie whole within table[0..prefix). */
static uint32_t units_in_prefix(const uint8_t *table, size_t len, size_t prefix)
{
	uint32_t units = 0;
	size_t start = 0, next;

	while (start < len) {
		for (next = start + 1; next < len && !(table[next] & 0x80); next++)
			;
		if (next > prefix)
			break;
		units += (table[start] & 7) + 1;
		start = next;
	}
	return units;
}

/* Every prefix of real tables: entries cut short give -1 and never disturb the complete ones. */
static void test_truncated_tables(void **state)
{
	const struct dump *d = load_dump(SYSTEM_PY);
	size_t i, k, checked = 0;
	uint32_t u;

	(void)state;
	for (i = 0; i < d->count; i++) {
		const struct code_obj *o = &d->objs[i];

		if (o->len > 200)
			continue;
		checked++;
		for (k = 0; k <= o->len; k++) {
			uint32_t covered = units_in_prefix(o->table, o->len, k);
			bool whole = k == o->len || (o->table[k] & 0x80);
			struct linetable_range *ranges;
			size_t n;
			int rc = linetable_decode(o->table, k, o->first_line, &ranges, &n);

			assert_int_equal(rc, whole ? 0 : -1);
			if (rc != 0) {
				assert_null(ranges);
				assert_int_equal(n, 0);
			}
			for (u = 0; u <= o->units; u++) {
				int expected = u < covered ? o->lines[u] : -1;

				assert_int_equal(
				    linetable_line_for_instr(o->table, k, o->first_line, u),
				    expected);
				if (rc == 0)
					assert_int_equal(linetable_ranges_lookup(ranges, n, u),
							 expected);
			}
			free(ranges);
		}
	}
	assert_true(checked >= 100);
}

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Whatever the bytes, results are -1 or a line in range, and decode + lookup agrees with the
 * direct decoder whenever decoding succeeds. */
static void check_consistent(const uint8_t *table, size_t len, int first_line)
{
	struct linetable_range *ranges;
	size_t n, j;
	int rc = linetable_decode(table, len, first_line, &ranges, &n);
	uint32_t u, max_units = (uint32_t)(8 * len + 2); /* an entry covers at most 8 units */

	if (rc == 0) {
		for (j = 0; j < n; j++) {
			assert_true(ranges[j].start < ranges[j].end);
			assert_true(j == 0 || ranges[j - 1].end <= ranges[j].start);
			assert_true(ranges[j].end <= max_units);
			assert_true(ranges[j].line >= 0);
		}
	} else {
		assert_int_equal(rc, -1);
		assert_null(ranges);
		assert_int_equal(n, 0);
	}
	for (u = 0; u <= max_units; u++) {
		int line = linetable_line_for_instr(table, len, first_line, u);

		assert_true(line >= -1);
		if (rc == 0)
			assert_int_equal(linetable_ranges_lookup(ranges, n, u), line);
	}
	assert_int_equal(linetable_line_for_instr(table, len, first_line, max_units + 1), -1);
	assert_int_equal(linetable_line_for_instr(table, len, first_line, UINT32_MAX), -1);
	free(ranges);
}

static int random_first_line(void)
{
	static const int special[] = {0, 1, INT_MAX, INT_MAX - 1, INT_MIN, -1, 100000};
	uint64_t r = rng();

	return r % 2 ? special[(r >> 1) % 7] : (int)((r >> 1) % 1000000);
}

/* Random bytes, and real tables with a few bytes overwritten and cut at random lengths. */
static void test_corrupt_tables(void **state)
{
	const struct dump *d = load_dump(SYSTEM_PY);
	uint8_t buf[256];
	size_t i, j, len;
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		len = rng() % 48;
		for (j = 0; j < len; j++) {
			uint64_t r = rng();

			/* Favour bytes that start entries so that decoding gets somewhere. */
			buf[j] = (uint8_t)(r % 3 == 0 ? 0x80 | (r >> 8) : r >> 8);
		}
		check_consistent(buf, len, random_first_line());
	}
	for (i = 0; i < d->count; i++) {
		const struct code_obj *o = &d->objs[i];

		if (o->len > sizeof(buf) || o->len == 0)
			continue;
		for (round = 0; round < 8; round++) {
			int flips = 1 + (int)(rng() % 3);

			memcpy(buf, o->table, o->len);
			while (flips--)
				buf[rng() % o->len] = (uint8_t)rng();
			len = round % 2 ? o->len : rng() % (o->len + 1);
			check_consistent(buf, len, round < 4 ? o->first_line : random_first_line());
		}
	}
}

/* Indices past the end, empty and missing tables, and bad arguments. */
static void test_out_of_range(void **state)
{
	const struct dump *d = load_dump(SYSTEM_PY);
	const uint8_t byte = 0;
	struct linetable_range *ranges = (void *)&ranges;
	size_t i, n = 1;

	(void)state;
	for (i = 0; i < d->count; i++) {
		const struct code_obj *o = &d->objs[i];
		const uint32_t past[] = {o->units, o->units + 1, o->units + 1000, INT32_MAX,
					 UINT32_MAX};
		size_t j;

		assert_int_equal(linetable_decode(o->table, o->len, o->first_line, &ranges, &n), 0);
		for (j = 0; j < sizeof(past) / sizeof(past[0]); j++) {
			assert_int_equal(
			    linetable_line_for_instr(o->table, o->len, o->first_line, past[j]), -1);
			assert_int_equal(linetable_ranges_lookup(ranges, n, past[j]), -1);
		}
		free(ranges);
	}
	assert_int_equal(linetable_line_for_instr(NULL, 0, 1, 0), -1);
	assert_int_equal(linetable_line_for_instr(NULL, 16, 1, 0), -1);
	assert_int_equal(linetable_line_for_instr(&byte, 0, 1, 0), -1);
	assert_int_equal(linetable_ranges_lookup(NULL, 0, 0), -1);
	assert_int_equal(linetable_ranges_lookup(NULL, 5, 3), -1);
	assert_int_equal(linetable_decode(NULL, 0, 1, &ranges, &n), 0);
	assert_null(ranges);
	assert_int_equal(n, 0);
	assert_int_equal(linetable_decode(&byte, 0, 1, &ranges, &n), 0);
	assert_int_equal(n, 0);
	free(ranges);
	assert_int_equal(linetable_decode(NULL, 3, 1, &ranges, &n), -1);
	assert_int_equal(linetable_decode(d->objs[0].table, d->objs[0].len, 1, NULL, &n), -1);
	assert_int_equal(linetable_decode(d->objs[0].table, d->objs[0].len, 1, &ranges, NULL), -1);
}

static int free_dumps(void **state)
{
	size_t w, i;

	(void)state;
	for (w = 0; w < N_DUMPS; w++) {
		for (i = 0; i < dumps[w].count; i++)
			free_code_obj(&dumps[w].objs[i]);
		free(dumps[w].objs);
	}
	if (getenv("LINETABLE_TEST_VERBOSE"))
		printf("checked %zu code objects, %zu code units\n", checked_objs, checked_units);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matches_system_python311),
	    cmocka_unit_test(test_matches_python3_on_path),
	    cmocka_unit_test(test_truncated_tables),
	    cmocka_unit_test(test_corrupt_tables),
	    cmocka_unit_test(test_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, free_dumps);
}
