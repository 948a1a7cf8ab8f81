/* Analysing a finished trace, filtering its races and writing its report in every format. */
#include <errno.h>
#include <inttypes.h>
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
	case OPT_HTML:
		o->html = arg;
		return 1;
	case OPT_SUPPRESSIONS:
		if (suppressions_load(&o->suppressions, arg, err, sizeof err)) {
			fprintf(stderr, "pyrace: %s\n", err);
			return -1;
		}
		return 1;
	case OPT_REDACT_KEYS:
		o->redact_keys = 1;
		return 1;
	case OPT_PREDICT:
		o->predict = 1;
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

/* Deadlocks are left out by `deadlock:` rules only: baselines hold races. `kept` receives the
 * deadlocks left, owned by the caller. */
static void filter_deadlocks(struct report *r, const struct report *full, struct output_options *o,
			     struct report_deadlock **kept)
{
	struct report_deadlock *left =
	    malloc((full->ndeadlocks ? full->ndeadlocks : 1) * sizeof(*left));

	*kept = left;
	if (!left)
		return;
	r->ndeadlocks = 0;
	for (size_t i = 0; i < full->ndeadlocks && full->deadlocks; i++) {
		if (suppressions_match_deadlock(&o->suppressions, &full->deadlocks[i]))
			r->suppressed_deadlocks++;
		else
			left[r->ndeadlocks++] = full->deadlocks[i];
	}
	r->deadlocks = left;
}

/* The report without the races a suppression matches (each counted on its first matching rule)
 * or a baseline already holds; `kept` receives the races left and is owned by the caller. */
static struct report filter(const struct report *full, struct output_options *o,
			    struct report_race **kept, struct report_deadlock **kept_deadlocks)
{
	struct report r = *full;
	filter_deadlocks(&r, full, o, kept_deadlocks);
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

/* Stable text for a secret: the same key gives the same text in every run and every format. */
static char *redacted(const char *text, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
	char *out = malloc(20);
	if (out)
		snprintf(out, 20, "h:%016" PRIx64, h);
	return out;
}

/* The key in a lock name such as LOCKS['k'] replaced by its hash; NULL when it has none. */
static char *redacted_lock(const char *name)
{
	const char *open = strchr(name, '[');
	const char *close = open ? strrchr(open, ']') : NULL;
	char *hash = close ? redacted(open + 1, (size_t)(close - open - 1)) : NULL;
	char *out = NULL;
	if (hash && asprintf(&out, "%.*s[%s]", (int)(open - name), name, hash) < 0)
		out = NULL;
	free(hash);
	return out;
}

static void redact_lock_name(const char **name, char **owned, size_t *nowned)
{
	char *r = redacted_lock(*name);
	if (r) {
		owned[(*nowned)++] = r;
		*name = r;
	}
}

/* Lock names in deadlocks, the same way; the copies of the name arrays made go to `owned` too
 * (3 * nlocks + 2 per deadlock at most). */
static void redact_deadlocks(struct report_deadlock *d, size_t n, char **owned, size_t *nowned)
{
	for (size_t i = 0; i < n; i++) {
		const char **locks = calloc(d[i].nlocks ? d[i].nlocks : 1, sizeof(*locks));
		struct report_lock_edge *edges =
		    calloc(d[i].nedges ? d[i].nedges : 1, sizeof(*edges));
		if (!locks || !edges) {
			free(locks);
			free(edges);
			continue;
		}
		owned[(*nowned)++] = (char *)locks;
		owned[(*nowned)++] = (char *)edges;
		for (size_t l = 0; l < d[i].nlocks; l++) {
			locks[l] = d[i].locks[l];
			redact_lock_name(&locks[l], owned, nowned);
		}
		for (size_t e = 0; e < d[i].nedges; e++) {
			edges[e] = d[i].edges[e];
			redact_lock_name(&edges[e].held, owned, nowned);
			redact_lock_name(&edges[e].acquired, owned, nowned);
		}
		d[i].locks = locks;
		d[i].edges = edges;
	}
}

/* Strings redact_keys() may make for one race. */
static size_t redaction_room(const struct report_race *race)
{
	return 1 + race->current.nlocks + race->previous.nlocks + race->current.nsyncs +
	       race->previous.nsyncs;
}

/* Replaces every dict key in the races (variables, and lock names such as LOCKS['k'] in the
 * locks held and in the sync events) by its hash; the strings made are added to `owned`
 * (room for redaction_room() of each race). */
static void redact_keys(struct report_race *races, size_t n, char **owned, size_t *nowned)
{
	for (size_t i = 0; i < n; i++) {
		struct report_variable *v = &races[i].variable;
		if (v->key && (owned[*nowned] = redacted(v->key, strlen(v->key)))) {
			v->key = owned[(*nowned)++];
			v->key_type = "redacted";
		}
		struct report_access *sides[] = {&races[i].current, &races[i].previous};
		for (size_t s = 0; s < 2; s++) {
			const char **names = (const char **)sides[s]->locks_held;
			for (size_t l = 0; l < sides[s]->nlocks; l++)
				redact_lock_name(&names[l], owned, nowned);
			struct report_sync *syncs = (struct report_sync *)sides[s]->syncs;
			for (size_t k = 0; k < sides[s]->nsyncs; k++)
				redact_lock_name(&syncs[k].object, owned, nowned);
		}
	}
}

int report_trace(const char *trace_path, const char *display_path, struct output_options *o)
{
	char why[512], warning[512];
	struct analysis *a = analysis_of_trace_mode(trace_path, o->predict, why, sizeof(why),
						    warning, sizeof(warning));
	if (!a) {
		fprintf(stderr, "pyrace: %s\n", why);
		return EXIT_USAGE;
	}
	if (warning[0])
		fprintf(stderr, "pyrace: warning: %s: %s; analysed up to the last complete event\n",
			display_path, warning);
	struct report_race *kept;
	struct report_deadlock *kept_deadlocks;
	struct report r = filter(analysis_report(a), o, &kept, &kept_deadlocks);
	char **owned = NULL;
	size_t nowned = 0;
	if (o->redact_keys) {
		size_t room = 0;
		for (size_t i = 0; i < r.nraces; i++)
			room += redaction_room(&r.races[i]);
		for (size_t i = 0; i < r.ndeadlocks; i++)
			room += 2 + 3 * r.deadlocks[i].nlocks;
		owned = calloc(room ? room : 1, sizeof(*owned));
		if (owned) {
			redact_keys(kept, r.nraces, owned, &nowned);
			if (kept_deadlocks)
				redact_deadlocks(kept_deadlocks, r.ndeadlocks, owned, &nowned);
		}
	}
	r.source_lines = !o->redact_keys; /* a quoted line can hold a key literal */
	report_write_text(&r, stderr, isatty(STDERR_FILENO));
	/* a potential deadlock fails a run as a race does: either is a concurrency bug to fix */
	int rc = r.nraces || r.ndeadlocks ? EXIT_RACES : EXIT_NO_RACES;
	if (o->json && write_file(&r, o->json, report_write_json))
		rc = EXIT_USAGE;
	if (o->sarif && write_file(&r, o->sarif, report_write_sarif))
		rc = EXIT_USAGE;
	if (o->junit && write_file(&r, o->junit, report_write_junit))
		rc = EXIT_USAGE;
	if (o->html && write_file(&r, o->html, report_write_html))
		rc = EXIT_USAGE;
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(kept);
	free(kept_deadlocks);
	analysis_free(a);
	return rc;
}
