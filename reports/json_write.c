/* A small streaming JSON writer shared by the JSON and SARIF renderings, and UTF-8 checking. */
#include "json_write.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

size_t utf8_sequence(const unsigned char *p, size_t n, size_t *skip)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		*skip = 1;
		return 0;
	}
	for (size_t k = 1; k <= need; k++) {
		if (k >= n || p[k] < lo || p[k] > hi) {
			*skip = k;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return need + 1;
}

/* Keys, paths and thread names come from the traced program and may hold any bytes. */
void json_write_string_n(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	fputc('"', out);
	while (i < n) {
		unsigned char c = p[i];
		size_t len, skip;

		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			i++;
		} else if ((len = utf8_sequence(p + i, n - i, &skip)) > 0) {
			fwrite(p + i, 1, len, out);
			i += len;
		} else {
			fputs("\xef\xbf\xbd", out);
			i += skip;
		}
	}
	fputc('"', out);
}

void json_write_string(FILE *out, const char *s)
{
	if (s)
		json_write_string_n(out, s, strlen(s));
	else
		fputs("null", out);
}

static void newline(struct json_writer *j)
{
	fputc('\n', j->out);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->out);
}

void jw_member(struct json_writer *j, const char *key)
{
	if (j->nonempty[j->depth])
		fputc(',', j->out);
	j->nonempty[j->depth] = true;
	newline(j);
	if (key) {
		json_write_string(j->out, key);
		fputs(": ", j->out);
	}
}

void jw_open(struct json_writer *j, const char *key, char bracket)
{
	if (j->depth > 0)
		jw_member(j, key);
	fputc(bracket, j->out);
	/* the renderers never nest this deep; stay in bounds rather than trust that, and say
	 * that the commas past this depth can no longer be right */
	if (j->depth + 1 < JSON_WRITE_MAX_DEPTH)
		j->depth++;
	else
		j->too_deep = true;
	j->nonempty[j->depth] = false;
}

/* An empty container closes on its own line as `[]`, the way the contract shows deadlocks. */
void jw_close(struct json_writer *j, char bracket)
{
	bool had_members = j->nonempty[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had_members)
		newline(j);
	fputc(bracket, j->out);
}

void jw_str(struct json_writer *j, const char *key, const char *val)
{
	jw_member(j, key);
	json_write_string(j->out, val);
}

void jw_u64(struct json_writer *j, const char *key, uint64_t val)
{
	jw_member(j, key);
	fprintf(j->out, "%" PRIu64, val);
}

void jw_int(struct json_writer *j, const char *key, long long val)
{
	jw_member(j, key);
	fprintf(j->out, "%lld", val);
}

void jw_bool(struct json_writer *j, const char *key, bool val)
{
	jw_member(j, key);
	fputs(val ? "true" : "false", j->out);
}

/* 1.93, not 1.930000 nor 1.9299999999999999; a locale with a decimal comma must not break the
 * document, and JSON has no NaN. */
void jw_double(struct json_writer *j, const char *key, double val)
{
	char buf[512];

	jw_member(j, key);
	if (!isfinite(val)) {
		fputs("null", j->out);
		return;
	}
	snprintf(buf, sizeof buf, "%.6f", val);
	for (char *p = buf; *p; p++) {
		if (*p == ',')
			*p = '.';
	}
	char *dot = strchr(buf, '.');
	if (dot) {
		char *end = buf + strlen(buf);
		while (end > dot + 2 && end[-1] == '0')
			end--;
		*end = '\0';
	}
	fputs(buf, j->out);
}
