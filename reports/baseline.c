/* The races of an earlier pyrace-report/1 JSON document, by id: baselines and `pyrace diff`. */
#include "baseline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "report.h"

static bool is_race_id(const struct json_value *v)
{
	if (!v || v->type != JSON_STRING || v->u.string.len != 16)
		return false;
	for (size_t i = 0; i < 16; i++) {
		char c = v->u.string.s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/* Control characters from the traced program must not reach a terminal. */
static void put_printable(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : "?"); *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fprintf(out, "\\x%02x", *++p);
		else
			fputc(*p, out);
	}
}

/* Whatever fields are missing or of the wrong type are shown as "?": the id is what counts. */
static char *summarize(const struct json_value *race)
{
	const struct json_value *var = json_get(race, "variable");
	struct report_variable v = {
	    .module = json_string(json_get(var, "module")),
	    .name = json_string(json_get(var, "name")),
	    .container = json_string(json_get(var, "container")),
	    .key = json_string(json_get(var, "key")),
	    .key_type = json_string(json_get(var, "key_type")),
	};
	char name[1024];
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return NULL;
	report_variable_name(&v, name, sizeof name);
	put_printable(out, name);
	const char *kind = json_string(json_get(race, "kind"));
	if (kind) {
		fputs(" (", out);
		put_printable(out, kind);
		fputc(')', out);
	}
	const struct json_value *stack = json_get(json_get(race, "current"), "stack");
	if (stack && stack->type == JSON_ARRAY && stack->u.array.n > 0) {
		const struct json_value *top = &stack->u.array.items[0];
		const struct json_value *line = json_get(top, "line");
		fputs(" at ", out);
		put_printable(out, json_string(json_get(top, "file")));
		if (line && line->type == JSON_NUMBER && line->u.number >= 1 &&
		    line->u.number < 1e9)
			fprintf(out, ":%d", (int)line->u.number);
		else
			fputs(":?", out);
		fputs(" in ", out);
		put_printable(out, json_string(json_get(top, "function")));
	}
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int compare_ids(const void *a, const void *b)
{
	return strcmp(((const struct baseline_race *)a)->id, ((const struct baseline_race *)b)->id);
}

int baseline_load(struct baseline *b, const char *path, char *err, size_t errlen)
{
	struct json_value *doc = json_parse_file(path, NULL, err, errlen);
	if (!doc)
		return -1;
	const char *schema = json_string(json_get(doc, "schema"));
	const struct json_value *races = json_get(doc, "races");
	int rc = -1;
	if (doc->type != JSON_OBJECT) {
		snprintf(err, errlen, "%s: not a pyrace report (not a JSON object)", path);
		goto out;
	}
	if (!schema || strcmp(schema, "pyrace-report/1") != 0) {
		snprintf(err, errlen, "%s: not a pyrace report (schema is not pyrace-report/1)",
			 path);
		goto out;
	}
	if (!races || races->type != JSON_ARRAY) {
		snprintf(err, errlen, "%s: \"races\" is missing or not an array", path);
		goto out;
	}
	for (size_t i = 0; i < races->u.array.n; i++) {
		if (!is_race_id(json_get(&races->u.array.items[i], "id"))) {
			snprintf(err, errlen, "%s: races[%zu] has no valid \"id\" (16 hex digits)",
				 path, i);
			goto out;
		}
	}
	size_t total = b->n + races->u.array.n;
	struct baseline_race *all = realloc(b->races, (total ? total : 1) * sizeof(*all));
	if (!all) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	b->races = all;
	for (size_t i = 0; i < races->u.array.n; i++) {
		const struct json_value *race = &races->u.array.items[i];
		struct baseline_race *r = &all[b->n++];
		memcpy(r->id, json_string(json_get(race, "id")), 17);
		r->summary = summarize(race);
	}
	qsort(b->races, b->n, sizeof(*b->races), compare_ids);
	/* the same id twice (two baselines, or a hand-edited file) counts once */
	size_t kept = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (kept > 0 && strcmp(b->races[kept - 1].id, b->races[i].id) == 0) {
			free(b->races[i].summary);
			continue;
		}
		b->races[kept++] = b->races[i];
	}
	b->n = kept;
	rc = 0;
out:
	json_free(doc);
	return rc;
}

bool baseline_has(const struct baseline *b, const char *id)
{
	struct baseline_race key;

	if (b->n == 0 || strnlen(id, sizeof key.id) != 16)
		return false;
	memcpy(key.id, id, 17);
	return bsearch(&key, b->races, b->n, sizeof(*b->races), compare_ids) != NULL;
}

void baseline_free(struct baseline *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->races[i].summary);
	free(b->races);
	*b = (struct baseline){0};
}
