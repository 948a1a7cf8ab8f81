/* pyrace diff: compare two JSON reports by race id (what is new, what is gone). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "baseline.h"
#include "commands.h"

static void diff_usage(FILE *out)
{
	fprintf(out,
		"usage: pyrace diff [OPTIONS] A.json B.json\n\n"
		"Compares two JSON reports (from --json) by race id: prints the races only in A\n"
		"(gone), only in B (new) and in both. Ids stay the same across runs and machines\n"
		"for the same variable and the same pair of source lines.\n\n"
		"  -h, --help   this text\n\n"
		"Exit status: 0 B has no race that A lacks, 66 B has new races, 1 usage error or\n"
		"unreadable report.\n");
}

static const char *summary(const struct baseline_race *r)
{
	return r->summary ? r->summary : "?";
}

/* Walks the two id-sorted lists together; `which` < 0 prints what is only in a, > 0 only in b,
 * 0 in both. */
static void print_part(const struct baseline *a, const struct baseline *b, int which)
{
	size_t i = 0, j = 0, count = 0;

	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->races[i].id, b->races[j].id);
		const struct baseline_race *r = c <= 0 ? &a->races[i] : &b->races[j];
		if ((c < 0 && which < 0) || (c > 0 && which > 0) || (c == 0 && which == 0)) {
			printf("  %s %s\n", r->id, summary(r));
			count++;
		}
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	if (count == 0)
		printf("  (none)\n");
}

static size_t count_part(const struct baseline *a, const struct baseline *b, int which)
{
	size_t i = 0, j = 0, count = 0;

	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(a->races[i].id, b->races[j].id);
		count += (c < 0 && which < 0) || (c > 0 && which > 0) || (c == 0 && which == 0);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	return count;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			diff_usage(stdout);
			return 0;
		default:
			diff_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 2) {
		diff_usage(stderr);
		return EXIT_USAGE;
	}
	const char *pa = argv[optind], *pb = argv[optind + 1];
	struct baseline a = {0}, b = {0};
	char err[1024];
	if (baseline_load(&a, pa, err, sizeof err) || baseline_load(&b, pb, err, sizeof err)) {
		fprintf(stderr, "pyrace diff: %s\n", err);
		baseline_free(&a);
		baseline_free(&b);
		return EXIT_USAGE;
	}
	size_t gone = count_part(&a, &b, -1), added = count_part(&a, &b, 1);
	size_t both = count_part(&a, &b, 0);
	printf("only in %s (gone): %zu\n", pa, gone);
	print_part(&a, &b, -1);
	printf("only in %s (new): %zu\n", pb, added);
	print_part(&a, &b, 1);
	printf("in both: %zu\n", both);
	print_part(&a, &b, 0);
	printf("pyrace diff: %zu new, %zu gone, %zu in both\n", added, gone, both);
	baseline_free(&a);
	baseline_free(&b);
	return added ? EXIT_RACES : EXIT_NO_RACES;
}
