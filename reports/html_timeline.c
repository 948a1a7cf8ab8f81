/* The timeline of one race in the HTML report: the two threads' lanes, both accesses, the sync
 * events the analysis kept around them, and what they say about the pair's order. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

#define LANE_LABEL_WIDTH 170
#define STEP		 84
#define LANE_Y0		 58
#define LANE_Y1		 150
#define HEIGHT		 205
#define LABEL_MAX	 14 /* bytes of an object name drawn in the SVG; the list has it whole */

struct tl_event {
	int lane;			    /* 0: the earlier access's thread, 1: the later one's */
	const struct report_access *access; /* the access itself, or NULL for a sync event */
	const struct report_sync *sync;
	uint64_t seq, ts_ns;
	size_t order; /* insertion order, to keep a trace without positions readable */
};

struct timeline {
	struct tl_event *ev;
	size_t n;
	const struct report_access *side[2]; /* previous, current */
	const char *name[2];
	uint64_t t0; /* the first nonzero timestamp shown */
};

static int by_seq(const void *x, const void *y)
{
	const struct tl_event *a = x, *b = y;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int build(struct timeline *t, const struct report_race *race)
{
	t->side[0] = &race->previous;
	t->side[1] = &race->current;
	size_t cap = 2 + race->previous.nsyncs + race->current.nsyncs;
	t->ev = calloc(cap, sizeof(*t->ev));
	if (!t->ev)
		return -1;
	for (int lane = 0; lane < 2; lane++) {
		const struct report_access *a = t->side[lane];
		t->name[lane] = a->thread.name ? a->thread.name : "thread";
		for (size_t i = 0; i < a->nsyncs && a->syncs; i++)
			t->ev[t->n++] = (struct tl_event){
			    lane, NULL, &a->syncs[i], a->syncs[i].seq, a->syncs[i].ts_ns, t->n};
		t->ev[t->n++] = (struct tl_event){lane, a, NULL, a->seq, a->ts_ns, t->n};
	}
	qsort(t->ev, t->n, sizeof(*t->ev), by_seq);
	for (size_t i = 0; i < t->n; i++)
		if (t->ev[i].ts_ns && (!t->t0 || t->ev[i].ts_ns < t->t0))
			t->t0 = t->ev[i].ts_ns;
	return 0;
}

static int is(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* Sync events another thread can synchronise with, and those that take such an edge in. */
static int releases(const struct report_sync *s)
{
	return is(s->what, "release") || is(s->what, "end") || is(s->what, "start") ||
	       is(s->what, "put") || is(s->what, "registry remove");
}

static int acquires(const struct report_sync *s)
{
	return is(s->what, "acquire") || is(s->what, "join") || is(s->what, "begin") ||
	       is(s->what, "get") || is(s->what, "registry insert");
}

/* Could `y` (on the other lane) take in what `x` published? Matched by kind and object. */
static int pairs(const struct timeline *t, const struct tl_event *x, const struct tl_event *y)
{
	if (!x->sync || !y->sync || x->lane == y->lane || !releases(x->sync) || !acquires(y->sync))
		return 0;
	const struct report_sync *r = x->sync, *a = y->sync;
	if (is(r->what, "release"))
		return is(a->what, "acquire") && is(r->object, a->object);
	if (is(r->what, "end"))
		return is(a->what, "join") && is(a->object, t->name[x->lane]);
	if (is(r->what, "start"))
		return is(a->what, "begin") && is(r->object, t->name[y->lane]);
	if (is(r->what, "put"))
		return is(a->what, "get") && is(r->object, a->object);
	return is(a->what, "registry insert") && is(r->object, a->object);
}

static void put_clipped(FILE *out, const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max) {
		html_put(out, s);
		return;
	}
	/* cut on a character boundary, not inside a UTF-8 sequence */
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	char *cut = strndup(s, max);
	html_put(out, cut ? cut : "");
	free(cut);
	fputs("\xe2\x80\xa6", out);
}

static void put_time(FILE *out, const struct timeline *t, const struct tl_event *e)
{
	if (e->ts_ns && t->t0)
		fprintf(out, "+%.3f ms", (double)(e->ts_ns - t->t0) / 1e6);
}

static void put_event_text(FILE *out, const struct tl_event *e)
{
	if (e->access) {
		html_put(out, e->access->op ? e->access->op : "access");
		fputs(" (the racing access)", out);
		return;
	}
	html_put(out, e->sync->what);
	if (e->sync->object && *e->sync->object) {
		fputc(' ', out);
		html_put(out, e->sync->object);
	}
}

static int x_of(size_t i)
{
	return LANE_LABEL_WIDTH + 30 + (int)i * STEP;
}

static int lane_y(int lane)
{
	return lane ? LANE_Y1 : LANE_Y0;
}

/* The earlier access is on lane 0 and the later one on lane 1; an edge orders them when it
 * leaves lane 0 after the first access and arrives on lane 1 before the second. */
static int orders_pair(const struct timeline *t, const struct tl_event *x, const struct tl_event *y)
{
	return x->lane == 0 && x->seq > t->side[0]->seq && y->seq < t->side[1]->seq;
}

static void draw_edges(FILE *out, const struct timeline *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++) {
		for (size_t j = i + 1; j < t->n; j++) {
			const struct tl_event *x = &t->ev[i], *y = &t->ev[j];
			if (!pairs(t, x, y))
				continue;
			int good = orders_pair(t, x, y);
			fprintf(out,
				"<line class=\"edge%s\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
				"marker-end=\"url(#arrow-%s)\"><title>",
				good ? " orders" : "", x_of(i), lane_y(x->lane), x_of(j),
				lane_y(y->lane) + (y->lane ? -8 : 8), id);
			put_event_text(out, x);
			fputs(" \xe2\x86\x92 ", out);
			put_event_text(out, y);
			fputs("</title></line>\n", out);
		}
	}
}

static void draw_event(FILE *out, const struct timeline *t, size_t i)
{
	const struct tl_event *e = &t->ev[i];
	int x = x_of(i), y = lane_y(e->lane);
	/* labels alternate between two rows so that neighbours do not overlap */
	int row = (int)(i % 2);
	int ly = e->lane ? y + 24 + row * 14 : y - 14 - row * 14;
	fputs("<g class=\"event\"><title>", out);
	if (e->seq)
		fprintf(out, "#%" PRIu64 " ", e->seq);
	put_event_text(out, e);
	fputs("</title>", out);
	if (e->access) {
		fprintf(out, "<circle class=\"access\" cx=\"%d\" cy=\"%d\" r=\"8\"/>", x, y);
		fprintf(out, "<text class=\"access-label\" x=\"%d\" y=\"%d\">", x, ly);
		html_put(out, e->access->op ? e->access->op : "access");
	} else {
		fprintf(out, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"10\" height=\"10\"/>",
			releases(e->sync) ? "sync release" : "sync acquire", x - 5, y - 5);
		fprintf(out, "<text x=\"%d\" y=\"%d\">", x, ly);
		html_put(out, e->sync->what);
		if (e->sync->object && *e->sync->object) {
			fputc(' ', out);
			put_clipped(out, e->sync->object, LABEL_MAX);
		}
	}
	fputs("</text></g>\n", out);
}

static void draw(FILE *out, const struct timeline *t, const char *id)
{
	int width = x_of(t->n ? t->n - 1 : 0) + 120;
	fprintf(out,
		"<svg class=\"timeline\" role=\"img\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\">\n"
		"<defs><marker id=\"arrow-%s\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
		"markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
		"<path d=\"M0,0 L10,5 L0,10 z\"/></marker></defs>\n",
		width, HEIGHT, width, HEIGHT, id);
	for (int lane = 0; lane < 2; lane++) {
		int y = lane_y(lane);
		fprintf(out, "<text class=\"lane-label\" x=\"4\" y=\"%d\">", y + 4);
		put_clipped(out, t->name[lane], 24);
		fprintf(out,
			"</text><line class=\"lane\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
			LANE_LABEL_WIDTH, y, width - 10, y);
	}
	draw_edges(out, t, id);
	for (size_t i = 0; i < t->n; i++)
		draw_event(out, t, i);
	fputs("</svg>\n", out);
}

static void put_thread(FILE *out, const struct timeline *t, int lane)
{
	fputs("thread \"", out);
	html_put(out, t->name[lane]);
	fputc('"', out);
}

/* The edges into lane 1 before its access from lane 0 after its access, or why there are none. */
static void write_notes(FILE *out, const struct timeline *t)
{
	const struct report_access *first = t->side[0], *second = t->side[1];
	int released_after = 0;
	fputs("<ul class=\"ordering\">\n", out);
	for (size_t i = 0; i < t->n; i++) {
		const struct tl_event *x = &t->ev[i];
		if (x->lane != 0 || !x->sync || !releases(x->sync) || x->seq <= first->seq)
			continue;
		released_after = 1;
		const struct tl_event *in_time = NULL, *too_early = NULL;
		for (size_t j = 0; j < t->n; j++) {
			const struct tl_event *y = &t->ev[j];
			if (!pairs(t, x, y))
				continue;
			if (y->seq > x->seq && y->seq < second->seq)
				in_time = y;
			else if (y->seq < x->seq)
				too_early = y;
		}
		fputs("<li>", out);
		put_thread(out, t, 0);
		fputs(" did <em>", out);
		put_event_text(out, x);
		fputs("</em> after its access, but ", out);
		if (in_time) {
			put_thread(out, t, 1);
			fputs(" took it in before its access: this orders the pair", out);
		} else if (too_early) {
			put_thread(out, t, 1);
			fputs(" did <em>", out);
			put_event_text(out, too_early);
			fputs("</em> earlier, before it was released: too early to order the pair",
			      out);
		} else {
			put_thread(out, t, 1);
			fputs(" did not take it in before its access", out);
		}
		fputs(".</li>\n", out);
	}
	if (!released_after) {
		fputs("<li>", out);
		put_thread(out, t, 0);
		if (first->nsyncs && first->syncs_not_kept && first->syncs[0].seq > first->seq)
			fprintf(out,
				" has more sync events after its access than were kept (%" PRIu64
				" earlier ones not shown).</li>\n",
				first->syncs_not_kept);
		else
			fputs(" released nothing after its access that another thread could "
			      "acquire before the later access.</li>\n",
			      out);
	}
	if (first->nlocks == 0 && second->nlocks == 0) {
		fputs("<li>Neither access held a lock.</li>\n", out);
	} else if (first->nlocks == 0 || second->nlocks == 0) {
		fputs("<li>", out);
		put_thread(out, t, first->nlocks == 0 ? 0 : 1);
		fputs(" held no lock at its access.</li>\n", out);
	} else {
		fputs("<li>The two accesses held no lock in common.</li>\n", out);
	}
	fputs("</ul>\n", out);
}

static void write_list(FILE *out, const struct timeline *t)
{
	fputs("<ol class=\"events\">\n", out);
	for (size_t i = 0; i < t->n; i++) {
		const struct tl_event *e = &t->ev[i];
		fprintf(out, "<li class=\"%s\"><span class=\"seq\">",
			e->access ? "access" : "sync");
		if (e->seq)
			fprintf(out, "#%" PRIu64, e->seq);
		fputs("</span> <span class=\"time\">", out);
		put_time(out, t, e);
		fputs("</span> ", out);
		put_thread(out, t, e->lane);
		fputs(": ", out);
		put_event_text(out, e);
		fputs("</li>\n", out);
	}
	fputs("</ol>\n", out);
	for (int lane = 0; lane < 2; lane++) {
		if (!t->side[lane]->syncs_not_kept)
			continue;
		fputs("<p class=\"note\">", out);
		fprintf(out, "%" PRIu64 " earlier sync events of ", t->side[lane]->syncs_not_kept);
		put_thread(out, t, lane);
		fputs(" are not shown: the analysis keeps only each thread's latest ones.</p>\n",
		      out);
	}
}

void html_write_timeline(FILE *out, const struct report_race *race)
{
	struct timeline t = {0};
	if (build(&t, race)) {
		fputs("<p class=\"note\">timeline not shown: out of memory</p>\n", out);
		return;
	}
	fputs("<div class=\"timeline\">\n<h3>Timeline</h3>\n"
	      "<p class=\"note\">The two threads' events in trace order (not to scale): the "
	      "accesses, and the synchronisation the analysis kept around them. Arrows are "
	      "possible hand-offs between the threads; a solid one would order the pair.</p>\n",
	      out);
	draw(out, &t, race->id);
	write_notes(out, &t);
	write_list(out, &t);
	fputs("</div>\n", out);
	free(t.ev);
}
