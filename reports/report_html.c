/* Renders a report as one self-contained HTML page: inline style, no script, no network. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "report.h"

/* Lines of source shown above and below a frame's line. */
#define EXCERPT_CONTEXT 3

/* No script may run and nothing may be fetched, whatever a key or a path contains: escaping is
 * the first defence, this policy the second. */
static const char head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
    "style-src 'unsafe-inline'\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";

static const char style[] =
    "<style>\n"
    "body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:0 "
    "16px 40px;color:#1d1d1f;background:#fafafa}\n"
    "h1{font-size:22px;margin:18px 0 6px}h2{font-size:18px;margin:0 0 4px}"
    "h3{font-size:15px;margin:12px 0 6px}\n"
    "code,pre,.variable,.frame-head{font-family:ui-monospace,Menlo,Consolas,monospace}\n"
    "table.facts{border-collapse:collapse;margin:8px 0}table.facts th{text-align:left;"
    "padding:2px 14px 2px 0;font-weight:600;vertical-align:top}table.facts td{padding:2px 0}\n"
    ".warn{color:#b00020;font-weight:600}.summary{font-size:16px}\n"
    "section.race{background:#fff;border:1px solid #ddd;border-left:5px solid #c62828;"
    "border-radius:6px;margin:18px 0;padding:12px 16px}\n"
    ".kind{font-size:13px;background:#fdecea;color:#8e0000;border-radius:4px;padding:1px "
    "6px;margin-left:8px}\n"
    ".meta{color:#555;margin:2px 0 8px}\n"
    ".sides{display:grid;grid-template-columns:1fr 1fr;gap:16px}\n"
    "@media (max-width:900px){.sides{grid-template-columns:1fr}}\n"
    ".access{min-width:0}.locks{color:#444}\n"
    "ol.stack{list-style:none;padding:0;margin:0}ol.stack li{margin:2px 0}\n"
    "summary{cursor:pointer}.frame-head{font-size:13px}.function{font-weight:600}\n"
    ".location{color:#555}\n"
    "pre.excerpt{background:#f5f5f7;border:1px solid #e3e3e6;border-radius:4px;margin:4px "
    "0 8px;padding:6px 0;overflow-x:auto;font-size:12px}\n"
    "pre.excerpt .line{display:block;padding:0 8px;white-space:pre}"
    "pre.excerpt .hit{background:#ffe3e0;font-weight:600}.ln{color:#999;user-select:none}\n"
    ".nosource{color:#777;font-style:italic;margin:2px 0 8px;font-size:12px}\n"
    "div.timeline{overflow-x:auto;margin-top:8px}svg.timeline{display:block;"
    "font:11px system-ui,sans-serif}\n"
    "svg .lane{stroke:#999;stroke-width:2}svg .lane-label{font-weight:600}\n"
    "svg .access{fill:#c62828}svg .access-label{font-weight:700;fill:#c62828}\n"
    "svg text{text-anchor:middle}svg .lane-label{text-anchor:start}\n"
    "svg .sync.acquire{fill:#1565c0}svg .sync.release{fill:#2e7d32}\n"
    "svg .edge{stroke:#888;stroke-width:1.5;stroke-dasharray:5 4}svg .edge.orders{stroke:"
    "#2e7d32;stroke-dasharray:none}svg marker path{fill:#666}\n"
    "ul.ordering li{margin:2px 0}ol.events{font-size:12px;color:#333}ol.events "
    ".seq,ol.events .time{font-family:ui-monospace,monospace;color:#777}\n"
    "ol.events li.access{font-weight:600}.note{color:#666;font-size:12px}\n"
    "</style>\n";

static const char *plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void put_fact_u64(FILE *out, const char *label, uint64_t value, int warn_if_nonzero)
{
	fprintf(out, "<tr><th>%s</th><td class=\"%s\">%" PRIu64 "</td></tr>\n", label,
		warn_if_nonzero && value ? "warn" : "", value);
}

static void write_header(FILE *out, const struct report *r)
{
	const struct report_target *t = &r->target;
	const struct report_stats *s = &r->stats;
	fputs("<header>\n<h1>pyrace report</h1>\n<p class=\"summary\">", out);
	fprintf(out, "<span id=\"race-count\">%zu</span> %s", r->nraces,
		plural(r->nraces, "data race", "data races"));
	fprintf(out, " in %" PRIu64 " %s, %" PRIu64 " events", s->threads,
		plural(s->threads, "thread", "threads"), s->events);
	if (s->lost_events)
		fprintf(out, ", <span class=\"warn\">%" PRIu64 " lost events</span>",
			s->lost_events);
	fputs("</p>\n<table class=\"facts target\">\n<tr><th>Command</th><td><code "
	      "id=\"target-argv\">",
	      out);
	for (size_t i = 0; i < t->argc && t->argv; i++) {
		if (i)
			fputc(' ', out);
		html_put(out, t->argv[i]);
	}
	fputs("</code></td></tr>\n<tr><th>Python</th><td id=\"python-version\">", out);
	html_put(out, t->python_version);
	fputs(" (", out);
	html_put(out, t->build);
	fputs(") <code>", out);
	html_put(out, t->executable);
	fprintf(out, "</code></td></tr>\n<tr><th>Process</th><td>%d</td></tr>\n</table>\n", t->pid);

	fputs("<table class=\"facts stats\" id=\"stats\">\n", out);
	put_fact_u64(out, "Events", s->events, 0);
	put_fact_u64(out, "Lost events", s->lost_events, 1);
	put_fact_u64(out, "Threads", s->threads, 0);
	put_fact_u64(out, "Watched dicts", s->watched_dicts, 0);
	put_fact_u64(out, "Truncated stacks", s->truncated_stacks, 0);
	put_fact_u64(out, "Unresolved frames", s->unresolved_frames, 1);
	fprintf(out, "<tr><th>Duration</th><td>%.2f s</td></tr>\n", s->duration_s);
	if (s->ended_early)
		fputs("<tr><th>Ended early</th><td class=\"warn\">yes: the target or the trace "
		      "ended before the program did</td></tr>\n",
		      out);
	put_fact_u64(out, "Suppressed races", r->suppressed, 0);
	put_fact_u64(out, "Baselined races", r->baselined, 0);
	fputs("</table>\n", out);
	if (s->lost_events)
		fputs("<p class=\"warn\">Events were lost (the ring buffer was full): races may be "
		      "missing, and some reported pairs may be ordered by events that were "
		      "lost.</p>\n",
		      out);
	fputs("</header>\n", out);
}

static void write_index(FILE *out, const struct report *r)
{
	if (r->nraces < 2)
		return;
	fputs("<nav><h3>Races</h3><ol>\n", out);
	for (size_t i = 0; i < r->nraces; i++) {
		char var[1024];
		report_variable_name(&r->races[i].variable, var, sizeof var);
		fprintf(out, "<li><a href=\"#race-%s\">", r->races[i].id);
		html_put(out, var);
		fputs("</a> ", out);
		html_put(out, r->races[i].kind);
		fputs("</li>\n", out);
	}
	fputs("</ol></nav>\n", out);
}

static void write_frame(FILE *out, const struct report_frame *f, int open)
{
	fprintf(out, "<li class=\"frame\"><details%s><summary class=\"frame-head\">",
		open ? " open" : "");
	fputs("<span class=\"function\">", out);
	html_put(out, f->function);
	fputs("</span> <span class=\"location\">", out);
	html_put(out, f->file);
	if (f->line < 0)
		fputs(":?", out);
	else
		fprintf(out, ":%d", f->line);
	fputs("</span></summary>\n", out);
	html_write_excerpt(out, f->file, f->line, EXCERPT_CONTEXT);
	fputs("</details></li>\n", out);
}

static void write_access(FILE *out, const struct report_access *a, const char *side, int earlier)
{
	fprintf(out, "<div class=\"access %s\">\n<h3>", side);
	const char *op = a->op && *a->op ? a->op : "access";
	if (earlier) {
		fputs("Previous ", out);
		html_put(out, op);
	} else {
		fputc(*op >= 'a' && *op <= 'z' ? *op - 'a' + 'A' : *op, out);
		html_put(out, op + 1);
	}
	fputs(" by thread <span class=\"thread\">", out);
	html_put(out, a->thread.name);
	fprintf(out,
		"</span> (tid %" PRIu32 ")</h3>\n<p class=\"locks\">Locks held: ", a->thread.tid);
	if (a->nlocks == 0 || !a->locks_held)
		fputs("none", out);
	for (size_t i = 0; i < a->nlocks && a->locks_held; i++) {
		fputs(i ? ", <code class=\"lock\">" : "<code class=\"lock\">", out);
		html_put(out, a->locks_held[i]);
		fputs("</code>", out);
	}
	fputs("</p>\n<ol class=\"stack\">\n", out);
	for (size_t i = 0; i < a->stack.nframes && a->stack.frames; i++)
		write_frame(out, &a->stack.frames[i], i == 0);
	if (a->stack.nframes == 0 || !a->stack.frames)
		fputs("<li class=\"nosource\">no Python frames</li>\n", out);
	if (a->stack.truncated)
		fputs("<li class=\"nosource\">\xe2\x80\xa6 deeper frames were not captured</li>\n",
		      out);
	fputs("</ol>\n</div>\n", out);
}

static void write_race(FILE *out, const struct report_race *race)
{
	char var[1024];
	report_variable_name(&race->variable, var, sizeof var);
	fprintf(out, "<section class=\"race\" id=\"race-%s\" data-race-id=\"%s\">\n<h2>", race->id,
		race->id);
	fputs("<span class=\"variable\">", out);
	html_put(out, var);
	fputs("</span><span class=\"kind\">", out);
	html_put(out, race->kind);
	fprintf(out,
		"</span></h2>\n<p class=\"meta\">Seen <span class=\"occurrences\">%" PRIu64
		"</span> %s \xc2\xb7 race id <code class=\"race-id\">%s</code></p>\n",
		race->occurrences, plural(race->occurrences, "time", "times"), race->id);
	fputs("<div class=\"sides\">\n", out);
	write_access(out, &race->current, "current", 0);
	write_access(out, &race->previous, "previous", 1);
	fputs("</div>\n", out);
	html_write_timeline(out, race);
	fputs("</section>\n", out);
}

int report_write_html(const struct report *r, FILE *out)
{
	fputs(head, out);
	fprintf(out, "<title>pyrace: %zu %s", r->nraces, plural(r->nraces, "race", "races"));
	if (r->target.argc && r->target.argv) {
		fputs(" in ", out);
		html_put(out, r->target.argv[r->target.argc > 1 ? 1 : 0]);
	}
	fputs("</title>\n", out);
	fputs(style, out);
	fputs("</head>\n<body>\n", out);
	write_header(out, r);
	write_index(out, r);
	fputs("<main>\n", out);
	if (r->nraces == 0)
		fputs("<p class=\"no-races\">No data race found.</p>\n", out);
	for (size_t i = 0; i < r->nraces && r->races; i++)
		write_race(out, &r->races[i]);
	fprintf(out,
		"</main>\n<footer class=\"note\">pyrace %s. Source excerpts were read when this "
		"page was made and may differ from what ran.</footer>\n</body>\n</html>\n",
		PYRACE_VERSION);
	return ferror(out) ? -1 : 0;
}
