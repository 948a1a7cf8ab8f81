/* Renders a report as a JUnit XML test suite, for CI systems that show test results. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_write.h"
#include "report.h"

/* Text from the traced program as XML 1.0 character data or an attribute value: the five
 * special characters become entities, characters XML 1.0 forbids (C0 controls other than tab,
 * newline and return; U+FFFE, U+FFFF) are dropped, invalid UTF-8 becomes U+FFFD, and tab,
 * newline and return in attributes are written as references so that parsers keep them. */
static void put_xml(FILE *out, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "?");
	size_t n = strlen((const char *)p), i = 0;

	while (i < n) {
		unsigned char c = p[i];
		size_t len, skip;

		switch (c) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&apos;", out);
			break;
		case '\t':
		case '\n':
			if (attr)
				fprintf(out, "&#%d;", c);
			else
				fputc(c, out);
			break;
		case '\r':
			fputs("&#13;", out);
			break;
		default:
			if (c < 0x20)
				break; /* not a character of XML 1.0 */
			len = utf8_sequence(p + i, n - i, &skip);
			if (len == 0) {
				fputs("\xef\xbf\xbd", out);
				i += skip;
				continue;
			}
			/* U+FFFE and U+FFFF: EF BF BE, EF BF BF */
			if (!(len == 3 && c == 0xef && p[i + 1] == 0xbf && p[i + 2] >= 0xbe))
				fwrite(p + i, 1, len, out);
			i += len;
			continue;
		}
		i++;
	}
}

static void put_location(FILE *out, const struct report_stack *st)
{
	if (st->nframes == 0 || !st->frames) {
		fputs("?", out);
		return;
	}
	const struct report_frame *f = &st->frames[0];
	const char *file = f->file ? f->file : "?";
	const char *slash = strrchr(file, '/');
	char line[16];

	put_xml(out, slash ? slash + 1 : file, true);
	if (f->line >= 1)
		snprintf(line, sizeof line, ":%d", f->line);
	else
		snprintf(line, sizeof line, ":?");
	fputs(line, out);
}

static void put_property(FILE *out, const char *name, const char *value)
{
	fprintf(out, "    <property name=\"%s\" value=\"", name);
	put_xml(out, value, true);
	fputs("\"/>\n", out);
}

static void put_u64_property(FILE *out, const char *name, uint64_t value)
{
	fprintf(out, "    <property name=\"%s\" value=\"%" PRIu64 "\"/>\n", name, value);
}

static void put_properties(FILE *out, const struct report *r)
{
	char *argv = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&argv, &len);

	for (size_t i = 0; m && i < r->target.argc && r->target.argv; i++)
		fprintf(m, "%s%s", i ? " " : "", r->target.argv[i] ? r->target.argv[i] : "?");
	if (m)
		fclose(m);
	fputs("  <properties>\n", out);
	put_property(out, "pyrace.version", PYRACE_VERSION);
	put_u64_property(out, "pid", (uint64_t)(r->target.pid > 0 ? r->target.pid : 0));
	put_property(out, "argv", argv ? argv : "");
	put_property(out, "python", r->target.python_version);
	put_u64_property(out, "events", r->stats.events);
	put_u64_property(out, "lost_events", r->stats.lost_events);
	put_u64_property(out, "threads", r->stats.threads);
	put_property(out, "ended_early", r->stats.ended_early ? "true" : "false");
	put_u64_property(out, "suppressed", r->suppressed);
	put_u64_property(out, "baselined", r->baselined);
	fputs("  </properties>\n", out);
	free(argv);
}

/* Opens a <testcase> named as pytest's own JUnit output names the test (classname: the test
 * file's module and class, name: the function), so that CI shows the race on that test.
 * `id` is file.py::Class::test. */
static void put_test_names(FILE *out, const char *id)
{
	const char *last = id;
	for (const char *p = strstr(id, "::"); p; p = strstr(p + 2, "::"))
		last = p;
	fputs("  <testcase classname=\"", out);
	const char *py = strstr(id, ".py::");
	size_t stem = py ? (size_t)(py - id) : 0;
	char *cls = malloc(strlen(id) + 1);
	if (cls) {
		size_t n = 0;
		for (const char *p = id; p < last; p++) {
			if (p == id + stem && py) {
				p += 2; /* ".py" then "::": one dot for both */
				continue;
			}
			if (p[0] == ':' && p[1] == ':') {
				cls[n++] = '.';
				p++;
				continue;
			}
			cls[n++] = *p;
		}
		cls[n] = '\0';
		put_xml(out, cls, true);
		free(cls);
	}
	fputs("\" name=\"", out);
	put_xml(out, last == id ? id : last + 2, true);
}

static void put_race(FILE *out, const struct report_race *race)
{
	char var[1024];
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (m) {
		report_write_race_text(race, m);
		fclose(m);
	}
	report_variable_name(&race->variable, var, sizeof var);
	const char *test = race->current.test ? race->current.test : race->previous.test;
	if (test) {
		put_test_names(out, test);
	} else {
		fputs("  <testcase classname=\"", out);
		put_xml(out, race->variable.module, true);
		fputs("\" name=\"", out);
		put_xml(out, var, true);
		fputs(" at ", out);
		put_location(out, &race->current.stack);
		fputs(" and ", out);
		put_location(out, &race->previous.stack);
	}
	fputs("\" time=\"0\">\n    <failure type=\"data-race\" message=\"data race on ", out);
	put_xml(out, var, true);
	if (race->kind) {
		fputs(" (", out);
		put_xml(out, race->kind, true);
		fputc(')', out);
	}
	fputs("\">", out);
	put_xml(out, text ? text : var, false);
	fputs("</failure>\n  </testcase>\n", out);
	free(text);
}

static void put_deadlock(FILE *out, const struct report_deadlock *d)
{
	char cycle[2048];
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (m) {
		report_write_deadlock_text(d, m);
		fclose(m);
	}
	report_deadlock_cycle(d, cycle, sizeof cycle);
	fputs("  <testcase classname=\"pyrace.deadlock\" name=\"", out);
	put_xml(out, cycle, true);
	if (d->nedges > 0 && d->edges) {
		fputs(" at ", out);
		put_location(out, &d->edges[0].acquired_stack);
	}
	fputs("\" time=\"0\">\n    <failure type=\"lock-order-inversion\" message=\"lock-order "
	      "inversion (potential deadlock): ",
	      out);
	put_xml(out, cycle, true);
	fputs("\">", out);
	put_xml(out, text ? text : cycle, false);
	fputs("</failure>\n  </testcase>\n", out);
	free(text);
}

int report_write_junit(const struct report *r, FILE *out)
{
	char time[64];
	double d = r->stats.duration_s;
	size_t nraces = r->races ? r->nraces : 0;
	size_t ndeadlocks = r->deadlocks ? r->ndeadlocks : 0;
	size_t failures = nraces + ndeadlocks;

	/* a decimal comma would not be a number to JUnit readers */
	snprintf(time, sizeof time, "%.3f", d >= 0 && d < 1e12 ? d : 0.0);
	for (char *p = time; *p; p++)
		if (*p == ',')
			*p = '.';
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out,
		"<testsuite name=\"pyrace\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
		"skipped=\"0\" time=\"%s\">\n",
		failures ? failures : 1, failures, time);
	put_properties(out, r);
	for (size_t i = 0; i < nraces; i++)
		put_race(out, &r->races[i]);
	for (size_t i = 0; i < ndeadlocks; i++)
		put_deadlock(out, &r->deadlocks[i]);
	if (failures == 0)
		fprintf(out,
			"  <testcase classname=\"pyrace\" name=\"no data races\" time=\"%s\"/>\n",
			time);
	fputs("</testsuite>\n", out);
	if (fflush(out) != 0)
		return -1;
	return ferror(out) ? -1 : 0;
}
