/* Escaping for the HTML report, and source lines read at render time. */
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "source_line.h"

/* Source lines longer than this are cut: a minified or generated file must not swell the page. */
#define EXCERPT_LINE_MAX 240

static void put_bytes(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
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
			fputs("&#39;", out);
			break;
		default:
			/* control characters are shown, not obeyed; a tab is layout in source */
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				fprintf(out, "\\x%02x", c);
			else
				fputc(c, out);
		}
	}
}

void html_put(FILE *out, const char *s)
{
	if (!s)
		s = "?";
	put_bytes(out, s, strlen(s));
}

static void say_unavailable(FILE *out, const char *file, const char *why)
{
	fputs("<p class=\"nosource\">source not shown: ", out);
	html_put(out, file);
	fputs(": ", out);
	html_put(out, why);
	fputs("</p>\n", out);
}

static void put_source_line(FILE *out, int number, const char *text, size_t len, int hit)
{
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	int cut = len > EXCERPT_LINE_MAX;
	fprintf(out, "<span class=\"%s\"><span class=\"ln\">%5d</span> ", hit ? "line hit" : "line",
		number);
	put_bytes(out, text, cut ? EXCERPT_LINE_MAX : len);
	/* each line is a block of its own: a newline after it would be a blank line */
	fputs(cut ? "\xe2\x80\xa6</span>" : "</span>", out);
}

void html_write_excerpt(FILE *out, const char *file, int line, int context)
{
	if (!file || line < 1) {
		say_unavailable(out, file ? file : "?", "line unknown");
		return;
	}
	const char *why = NULL;
	FILE *f = report_open_source(file, &why);
	if (!f) {
		say_unavailable(out, file, why);
		return;
	}
	int first = line > context ? line - context : 1, last = line + context, number = 0,
	    shown = 0;
	char *text = NULL;
	size_t cap = 0;
	ssize_t n;
	while (number < last && (n = getline(&text, &cap, f)) >= 0) {
		number++;
		if (number < first)
			continue;
		if (!shown++)
			fputs("<pre class=\"excerpt\">", out);
		put_source_line(out, number, text, (size_t)n, number == line);
	}
	int failed = ferror(f);
	free(text);
	fclose(f);
	if (shown)
		fputs("</pre>\n", out);
	if (failed)
		say_unavailable(out, file, "read error");
	else if (number < line) {
		char why_short[96];
		snprintf(why_short, sizeof why_short,
			 "it has %d lines, not %d (changed since the run?)", number, line);
		say_unavailable(out, file, why_short);
	}
}
