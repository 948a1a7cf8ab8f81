/* Analysing a finished trace, filtering its races and writing its report in every format. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "commands.h"

int output_option(struct output_options *o, int opt, const char *arg)
{
	char err[1024];

	switch (opt) {
	case OPT_JSON:
		o->json = arg;
		return 1;
	case OPT_SARIF:
		o->sarif = arg;
		return 1;
	case OPT_JUNIT:
		o->junit = arg;
		return 1;
	case OPT_SUPPRESSIONS:
		if (suppressions_load(&o->suppressions, arg, err, sizeof err)) {
			fprintf(stderr, "pyrace: %s\n", err);
			return -1;
		}
		return 1;
	case OPT_BASELINE:
		if (baseline_load(&o->baseline, arg, err, sizeof err)) {
			fprintf(stderr, "pyrace: baseline %s\n", err);
			return -1;
		}
		return 1;
	default:
		return 0;
	}
}

void output_options_free(struct output_options *o)
{
	suppressions_free(&o->suppressions);
	baseline_free(&o->baseline);
}

typedef int (*renderer)(const struct report *r, FILE *out);

/* Created with mode 0600: reports name the program's files, keys and threads. */
static int write_file(const struct report *r, const char *path, renderer render)
{
	FILE *f = stdout;
	if (strcmp(path, "-") != 0) {
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		f = fd < 0 ? NULL : fdopen(fd, "w");
		if (!f) {
			fprintf(stderr, "pyrace: cannot write %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
	}
	int rc = render(r, f);
	if (f != stdout)
		rc |= fclose(f);
	else
		rc |= fflush(f);
	if (rc)
		fprintf(stderr, "pyrace: writing %s failed\n", path);
	return rc ? -1 : 0;
}

/* The report without the races a suppression matches (each counted on its first matching rule)
 * or a baseline already holds; `kept` receives the races left and is owned by the caller. */
static struct report filter(const struct report *full, struct output_options *o,
			    struct report_race **kept)
{
	struct report r = *full;
	struct report_race *left = malloc((full->nraces ? full->nraces : 1) * sizeof(*left));

	*kept = left;
	if (!left)
		return r; /* nothing left out rather than nothing reported */
	r.nraces = 0;
	for (size_t i = 0; i < full->nraces && full->races; i++) {
		const struct report_race *race = &full->races[i];
		if (suppressions_match(&o->suppressions, race))
			r.suppressed++;
		else if (baseline_has(&o->baseline, race->id))
			r.baselined++;
		else
			left[r.nraces++] = *race;
	}
	r.races = left;
	r.suppressions = suppressions_view(&o->suppressions);
	r.nsuppressions = r.suppressions ? o->suppressions.n : 0;
	return r;
}

int report_trace(const char *trace_path, const char *display_path, struct output_options *o)
{
	char why[512], warning[512];
	struct analysis *a =
	    analysis_of_trace(trace_path, why, sizeof(why), warning, sizeof(warning));
	if (!a) {
		fprintf(stderr, "pyrace: %s\n", why);
		return EXIT_USAGE;
	}
	if (warning[0])
		fprintf(stderr, "pyrace: warning: %s: %s; analysed up to the last complete event\n",
			display_path, warning);
	struct report_race *kept;
	const struct report r = filter(analysis_report(a), o, &kept);
	report_write_text(&r, stderr, isatty(STDERR_FILENO));
	int rc = r.nraces ? EXIT_RACES : EXIT_NO_RACES;
	if (o->json && write_file(&r, o->json, report_write_json))
		rc = EXIT_USAGE;
	if (o->sarif && write_file(&r, o->sarif, report_write_sarif))
		rc = EXIT_USAGE;
	if (o->junit && write_file(&r, o->junit, report_write_junit))
		rc = EXIT_USAGE;
	free(kept);
	analysis_free(a);
	return rc;
}
