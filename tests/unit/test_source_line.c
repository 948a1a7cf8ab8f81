/* Source lines quoted by the text report: only regular *.py files, the right line, cut to fit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source_line.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/pyrace-srcline-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_reads_the_line(void **state)
{
	(void)state;
	char path[128], buf[64];
	snprintf(path, sizeof path, "%s/app.py", dir);
	write_file(path, "import x\n\ndef f():\n    CACHE['k'] = 1\n\tlast");
	assert_int_equal(report_source_line(path, 4, buf, sizeof buf), 0);
	assert_string_equal(buf, "CACHE['k'] = 1");
	assert_int_equal(report_source_line(path, 1, buf, sizeof buf), 0);
	assert_string_equal(buf, "import x");
	assert_int_equal(report_source_line(path, 2, buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(report_source_line(path, 5, buf, sizeof buf), 0); /* no final newline */
	assert_string_equal(buf, "last");
	assert_int_equal(report_source_line(path, 6, buf, sizeof buf), -1);
	assert_int_equal(report_source_line(path, 0, buf, sizeof buf), -1);
	char small[6];
	assert_int_equal(report_source_line(path, 4, small, sizeof small), 0);
	assert_string_equal(small, "CACHE"); /* cut to fit */
}

static void test_refuses_other_files(void **state)
{
	(void)state;
	char path[128], buf[64];
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	write_file(path, "secret\n");
	assert_int_equal(report_source_line(path, 1, buf, sizeof buf), -1);
	snprintf(path, sizeof path, "%s/fifo.py", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* a FIFO is never read (it would block until a writer came) */
	assert_int_equal(report_source_line(path, 1, buf, sizeof buf), -1);
	snprintf(path, sizeof path, "%s/dir.py", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(report_source_line(path, 1, buf, sizeof buf), -1);
	assert_int_equal(report_source_line("/nonexistent/x.py", 1, buf, sizeof buf), -1);
	assert_int_equal(report_source_line(NULL, 1, buf, sizeof buf), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_the_line),
	    cmocka_unit_test(test_refuses_other_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
