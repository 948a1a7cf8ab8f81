/* Building and parsing trace record payloads. */
#include "trace_format.h"

#include <stdlib.h>
#include <string.h>

void trace_buf_reset(struct trace_buf *b)
{
	b->len = 0;
	b->pos = 0;
	b->error = 0;
}

void trace_buf_free(struct trace_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void trace_put(struct trace_buf *b, const void *p, size_t n)
{
	if (b->error)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *grown = realloc(b->data, cap);
		if (!grown) {
			b->error = 1;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void trace_put_u32(struct trace_buf *b, uint32_t v)
{
	trace_put(b, &v, sizeof(v));
}

void trace_put_u64(struct trace_buf *b, uint64_t v)
{
	trace_put(b, &v, sizeof(v));
}

void trace_put_bytes(struct trace_buf *b, const void *p, uint32_t n)
{
	trace_put_u32(b, n);
	trace_put(b, p, n);
}

void trace_put_str(struct trace_buf *b, const char *s)
{
	trace_put_bytes(b, s, (uint32_t)strlen(s));
}

static const uint8_t *take(struct trace_buf *b, size_t n)
{
	if (b->error || n > b->len - b->pos) {
		b->error = 1;
		return NULL;
	}
	const uint8_t *p = b->data + b->pos;
	b->pos += n;
	return p;
}

uint32_t trace_get_u32(struct trace_buf *b)
{
	uint32_t v = 0;
	const uint8_t *p = take(b, sizeof(v));
	if (p)
		memcpy(&v, p, sizeof(v));
	return v;
}

uint64_t trace_get_u64(struct trace_buf *b)
{
	uint64_t v = 0;
	const uint8_t *p = take(b, sizeof(v));
	if (p)
		memcpy(&v, p, sizeof(v));
	return v;
}

const uint8_t *trace_get_bytes(struct trace_buf *b, uint32_t *n)
{
	*n = trace_get_u32(b);
	const uint8_t *p = take(b, *n);
	if (!p)
		*n = 0;
	return p;
}

char *trace_get_str(struct trace_buf *b)
{
	uint32_t n;
	const uint8_t *p = trace_get_bytes(b, &n);
	if (!p)
		return NULL;
	char *s = malloc((size_t)n + 1);
	if (!s) {
		b->error = 1;
		return NULL;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}
