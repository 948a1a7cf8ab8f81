/* Suppression rules (`race:`, `race_top:`, `global:`, `deadlock:` globs) and matching them against
 * races and deadlocks. */
#include "suppressions.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	enum suppression_type type;
} type_names[] = {
    {"race", SUPP_RACE},
    {"race_top", SUPP_RACE_TOP},
    {"global", SUPP_GLOBAL},
    {"deadlock", SUPP_DEADLOCK},
};

const char *suppression_type_name(enum suppression_type type)
{
	for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
		if (type_names[i].type == type)
			return type_names[i].name;
	return "?";
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* What the user wrote, shown in an error on one line: control bytes escaped, long text cut. */
static void quote(const char *p, size_t n, char *buf, size_t len)
{
	size_t pos = 0;

	for (size_t i = 0; i < n && pos + 8 < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (i >= 40) {
			pos += (size_t)snprintf(buf + pos, len - pos, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f)
			pos += (size_t)snprintf(buf + pos, len - pos, "\\x%02x", c);
		else
			buf[pos++] = (char)c;
	}
	buf[pos < len ? pos : len - 1] = '\0';
}

/* fnmatch(3) takes a malformed bracket literally; a user who wrote one meant something else. */
static const char *glob_error(const char *p, size_t n)
{
	/* a pass of its own: the bracket scan below jumps over the members of a class */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return "control character in the pattern";
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\') {
			if (++i == n)
				return "the pattern ends with a lone backslash";
		} else if (p[i] == '[') {
			size_t j = i + 1;
			if (j < n && (p[j] == '!' || p[j] == '^'))
				j++;
			if (j < n && p[j] == ']')
				j++; /* a leading ] is a member */
			while (j < n && p[j] != ']')
				j++;
			if (j == n)
				return "unterminated '[' in the pattern";
			i = j;
		}
	}
	return NULL;
}

static int add_rule(struct suppressions *s, enum suppression_type type, const char *pattern,
		    size_t plen, const char *file, int line)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct suppression *grown = realloc(s->rules, cap * sizeof(*grown));
		if (!grown)
			return -1;
		s->rules = grown;
		s->cap = cap;
	}
	struct suppression *r = &s->rules[s->n];
	r->type = type;
	r->pattern = strndup(pattern, plen);
	r->file = strdup(file ? file : "?");
	r->line = line;
	r->hits = 0;
	if (!r->pattern || !r->file) {
		free(r->pattern);
		free(r->file);
		return -1;
	}
	s->n++;
	return 0;
}

static void drop_from(struct suppressions *s, size_t first)
{
	while (s->n > first) {
		s->n--;
		free(s->rules[s->n].pattern);
		free(s->rules[s->n].file);
	}
}

/* One line, without its newline. 0, or -1 with the reason in why. */
static int parse_line(struct suppressions *s, const char *file, int lineno, const char *p, size_t n,
		      char *why, size_t whylen)
{
	char shown[400];

	while (n > 0 && is_space(*p))
		p++, n--;
	while (n > 0 && is_space(p[n - 1]))
		n--;
	if (n == 0 || p[0] == '#')
		return 0;
	if (memchr(p, '\0', n)) {
		snprintf(why, whylen, "NUL byte in the line");
		return -1;
	}
	const char *colon = memchr(p, ':', n);
	if (!colon) {
		quote(p, n, shown, sizeof shown);
		snprintf(why, whylen,
			 "expected TYPE:PATTERN (race, race_top, global or deadlock), got '%s'",
			 shown);
		return -1;
	}
	size_t tlen = (size_t)(colon - p);
	size_t t;
	for (t = 0; t < sizeof type_names / sizeof type_names[0]; t++)
		if (strlen(type_names[t].name) == tlen && memcmp(type_names[t].name, p, tlen) == 0)
			break;
	if (t == sizeof type_names / sizeof type_names[0]) {
		quote(p, tlen, shown, sizeof shown);
		snprintf(
		    why, whylen,
		    "unknown suppression type '%s' (expected race, race_top, global or deadlock)",
		    shown);
		return -1;
	}
	const char *pat = colon + 1;
	size_t plen = n - tlen - 1;
	while (plen > 0 && is_space(*pat))
		pat++, plen--;
	if (plen == 0) {
		snprintf(why, whylen, "empty pattern after '%s:'", type_names[t].name);
		return -1;
	}
	const char *bad = glob_error(pat, plen);
	if (bad) {
		snprintf(why, whylen, "%s", bad);
		return -1;
	}
	if (add_rule(s, type_names[t].type, pat, plen, file, lineno)) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	return 0;
}

int suppressions_parse(struct suppressions *s, const char *file, const char *text, size_t len,
		       char *err, size_t errlen)
{
	size_t first = s->n;
	int lineno = 0;
	const char *p = text, *end = text + len;
	char why[512];

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if (lineno == 0x7fffffff) {
			snprintf(why, sizeof why, "too many lines");
			goto fail;
		}
		lineno++;
		if (parse_line(s, file, lineno, p, (size_t)(eol - p), why, sizeof why))
			goto fail;
		p = nl ? nl + 1 : end;
	}
	return 0;
fail:
	drop_from(s, first);
	snprintf(err, errlen, "%s:%d: %s", file ? file : "?", lineno, why);
	return -1;
}

int suppressions_load(struct suppressions *s, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot read suppressions %s: %s", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	int rc = -1;
	while (buf) {
		if (len == cap) {
			if (cap > SUPPRESSIONS_MAX_FILE) {
				snprintf(err, errlen, "%s: larger than %u bytes", path,
					 SUPPRESSIONS_MAX_FILE);
				goto out;
			}
			char *grown = realloc(buf, cap * 2);
			if (!grown)
				break;
			buf = grown;
			cap *= 2;
		}
		ssize_t got = read(fd, buf + len, cap - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			snprintf(err, errlen, "cannot read suppressions %s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (got == 0) {
			if (len > SUPPRESSIONS_MAX_FILE) {
				snprintf(err, errlen, "%s: larger than %u bytes", path,
					 SUPPRESSIONS_MAX_FILE);
				goto out;
			}
			rc = suppressions_parse(s, path, buf, len, err, errlen);
			goto out;
		}
		len += (size_t)got;
	}
	snprintf(err, errlen, "%s: out of memory", path);
out:
	free(buf);
	close(fd);
	return rc;
}

static bool glob(const char *pattern, const char *s)
{
	return s && fnmatch(pattern, s, 0) == 0;
}

static bool frame_matches(const char *pattern, const struct report_frame *f)
{
	if (glob(pattern, f->function) || glob(pattern, f->file))
		return true;
	const char *slash = f->file ? strrchr(f->file, '/') : NULL;
	return slash && glob(pattern, slash + 1);
}

static bool stack_matches(const char *pattern, const struct report_stack *st, bool top_only)
{
	size_t n = top_only && st->nframes > 1 ? 1 : st->nframes;

	for (size_t i = 0; i < n && st->frames; i++)
		if (frame_matches(pattern, &st->frames[i]))
			return true;
	return false;
}

/* `module.NAME`, without the key: the name of the global a rule speaks of. */
static bool variable_matches(const char *pattern, const struct report_variable *v)
{
	const char *module = v->module ? v->module : "?", *name = v->name ? v->name : "?";
	size_t n = strlen(module) + strlen(name) + 2;
	char small[512];
	char *buf = n <= sizeof small ? small : malloc(n);

	if (!buf)
		return false;
	snprintf(buf, n, "%s.%s", module, name);
	bool hit = glob(pattern, buf);
	if (buf != small)
		free(buf);
	return hit;
}

bool suppression_matches(const struct suppression *rule, const struct report_race *race)
{
	switch (rule->type) {
	case SUPP_GLOBAL:
		return variable_matches(rule->pattern, &race->variable);
	case SUPP_RACE:
		return variable_matches(rule->pattern, &race->variable) ||
		       stack_matches(rule->pattern, &race->current.stack, false) ||
		       stack_matches(rule->pattern, &race->previous.stack, false);
	case SUPP_RACE_TOP:
		return stack_matches(rule->pattern, &race->current.stack, true) ||
		       stack_matches(rule->pattern, &race->previous.stack, true);
	case SUPP_DEADLOCK:
		return false;
	}
	return false;
}

bool suppression_matches_deadlock(const struct suppression *rule, const struct report_deadlock *d)
{
	if (rule->type != SUPP_DEADLOCK)
		return false;
	for (size_t i = 0; i < d->nlocks && d->locks; i++)
		if (glob(rule->pattern, d->locks[i]))
			return true;
	for (size_t i = 0; i < d->nedges && d->edges; i++)
		if (stack_matches(rule->pattern, &d->edges[i].held_stack, false) ||
		    stack_matches(rule->pattern, &d->edges[i].acquired_stack, false))
			return true;
	return false;
}

const struct suppression *suppressions_match_deadlock(struct suppressions *s,
						      const struct report_deadlock *d)
{
	for (size_t i = 0; i < s->n; i++) {
		if (suppression_matches_deadlock(&s->rules[i], d)) {
			s->rules[i].hits++;
			return &s->rules[i];
		}
	}
	return NULL;
}

const struct suppression *suppressions_match(struct suppressions *s, const struct report_race *race)
{
	for (size_t i = 0; i < s->n; i++) {
		if (suppression_matches(&s->rules[i], race)) {
			s->rules[i].hits++;
			return &s->rules[i];
		}
	}
	return NULL;
}

const struct report_suppression *suppressions_view(struct suppressions *s)
{
	if (s->n == 0)
		return NULL;
	struct report_suppression *v = realloc(s->view, s->n * sizeof(*v));
	if (!v)
		return NULL;
	s->view = v;
	for (size_t i = 0; i < s->n; i++) {
		const struct suppression *r = &s->rules[i];
		v[i] = (struct report_suppression){suppression_type_name(r->type), r->pattern,
						   r->file, r->line, r->hits};
	}
	return v;
}

void suppressions_free(struct suppressions *s)
{
	drop_from(s, 0);
	free(s->rules);
	free(s->view);
	*s = (struct suppressions){0};
}
