/* Compact events of trace format 2: interning on the writer's side, tables on the reader's. */
#include "trace_codec.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "trace_format.h"
#include "varint.h"

struct encoder_thread {
	uint64_t last_obj;
	uint32_t pid, tid;
	uint16_t process;
};

struct encoder_key {
	uint64_t id;
	uint8_t kind, len;
	char text[PYRACE_KEY_MAX];
};

struct encoder_stack {
	uint32_t generation;
	uint8_t nframes, truncated;
};

struct decoder_thread {
	uint64_t last_obj;
	uint64_t memo;
	uint32_t pid, tid;
	uint16_t process;
	uint8_t defined;
};

struct decoder_key {
	uint64_t id;
	uint8_t kind, len, defined;
	char text[PYRACE_KEY_MAX];
};

/* Small, for the look-up at every event; the frames, needed only by definitions, apart. */
struct decoder_stack {
	uint32_t id; /* the analysis' */
	uint16_t nframes;
	uint8_t truncated, defined;
};

struct decoder_frames {
	struct pyrace_frame f[PYRACE_MAX_FRAMES];
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 32);
}

/* ---- writing ---- */

int trace_encoder_init(struct trace_encoder *enc, struct trace_writer *w)
{
	memset(enc, 0, sizeof(*enc));
	enc->w = w;
	if (intern_init(&enc->thread_ids, TRACE_THREAD_IDS) ||
	    intern_init(&enc->key_ids, TRACE_KEY_IDS) ||
	    intern_init(&enc->stack_ids, TRACE_STACK_IDS))
		goto fail;
	/* the tables are touched only as far as they are used */
	enc->threads = calloc(TRACE_THREAD_IDS, sizeof(*enc->threads));
	enc->keys = calloc(TRACE_KEY_IDS, sizeof(*enc->keys));
	enc->stacks = calloc(TRACE_STACK_IDS, sizeof(*enc->stacks));
	enc->frames = calloc((size_t)TRACE_STACK_IDS * PYRACE_MAX_FRAMES, sizeof(*enc->frames));
	if (!enc->threads || !enc->keys || !enc->stacks || !enc->frames)
		goto fail;
	return 0;
fail:
	trace_encoder_free(enc);
	return -1;
}

void trace_encoder_free(struct trace_encoder *enc)
{
	intern_free(&enc->thread_ids);
	intern_free(&enc->key_ids);
	intern_free(&enc->stack_ids);
	free(enc->threads);
	free(enc->keys);
	free(enc->stacks);
	free(enc->frames);
	enc->threads = NULL;
	enc->keys = NULL;
	enc->stacks = NULL;
	enc->frames = NULL;
}

static void emit(struct trace_encoder *enc, uint32_t type, const uint8_t *p, size_t len)
{
	if (trace_writer_record(enc->w, type, p, (uint32_t)len))
		enc->failed = 1;
}

void trace_encoder_code_freed(struct trace_encoder *enc)
{
	enc->code_generation++;
}

/* Looks a stack up; defines it when new, as its innermost frame on top of its callers' stack
 * (defined first the same way): a new call site costs one frame, not the whole stack. */
static uint32_t intern_stack(struct trace_encoder *enc, const struct pyrace_frame *frames, size_t n,
			     uint8_t truncated, int *check)
{
	if (n == 0 && !truncated)
		return 0;
	uint64_t h = mix(0x243f6a8885a308d3ull, n << 1 | truncated);
	for (size_t i = 0; i < n; i++)
		h = mix(h, frames[i].code ^ ((uint64_t)frames[i].instr << 48));
	struct intern_index *x = &enc->stack_ids;
	uint32_t first = intern_set(x, h);
	for (uint32_t e = first; e < first + INTERN_WAYS; e++) {
		if (!x->ids[e] || x->tags[e] != h)
			continue;
		uint32_t id = x->ids[e] - 1;
		struct encoder_stack *s = &enc->stacks[id];
		if (s->nframes != n || s->truncated != truncated)
			continue;
		const struct pyrace_frame *f = &enc->frames[(size_t)id * PYRACE_MAX_FRAMES];
		int same = 1;
		for (size_t i = 0; i < n && same; i++)
			same = f[i].code == frames[i].code && f[i].instr == frames[i].instr;
		if (!same)
			continue;
		if (s->generation != enc->code_generation) {
			s->generation = enc->code_generation;
			*check = 1;
		}
		return id + 1;
	}
	/* the callers first: their definition must precede this one (which may then take the
	 * callers' id: the reader has copied their frames by then) */
	uint32_t parent = n ? intern_stack(enc, frames + 1, n - 1, truncated, check) : 0;
	uint32_t id = intern_insert(x, h);
	struct encoder_stack *s = &enc->stacks[id];
	s->nframes = (uint8_t)n;
	s->truncated = truncated;
	s->generation = enc->code_generation;
	struct pyrace_frame *f = &enc->frames[(size_t)id * PYRACE_MAX_FRAMES];
	for (size_t i = 0; i < n; i++)
		f[i] = (struct pyrace_frame){.code = frames[i].code, .instr = frames[i].instr};
	uint8_t buf[4 * VARINT_MAX_BYTES + 2];
	size_t len = varint_put(buf, id + 1);
	len += varint_put(buf + len, parent);
	buf[len++] = truncated;
	buf[len++] = n ? 1 : 0;
	if (n) {
		/* code objects live near each other: the caller's code address is a close guess */
		uint64_t guess = n > 1 ? frames[1].code : 0;
		len += varint_put(buf + len, zigzag((int64_t)(frames[0].code - guess)));
		len += varint_put(buf + len, frames[0].instr);
	}
	emit(enc, TREC_STACK, buf, len);
	enc->definitions++;
	*check = 1;
	return id + 1;
}

uint32_t trace_encode_stack(struct trace_encoder *enc, const struct pyrace_frame *frames, size_t n,
			    int truncated, int *check)
{
	*check = 0;
	return intern_stack(enc, frames, n < PYRACE_MAX_FRAMES ? n : PYRACE_MAX_FRAMES,
			    truncated != 0, check);
}

static uint32_t encode_thread(struct trace_encoder *enc, const struct pyrace_event *e)
{
	uint64_t h = mix(mix(0x13198a2e03707344ull, (uint64_t)e->process << 32 | e->tid), e->pid);
	struct intern_index *x = &enc->thread_ids;
	uint32_t first = intern_set(x, h);
	for (uint32_t i = first; i < first + INTERN_WAYS; i++) {
		if (!x->ids[i] || x->tags[i] != h)
			continue;
		const struct encoder_thread *t = &enc->threads[x->ids[i] - 1];
		if (t->tid == e->tid && t->pid == e->pid && t->process == e->process)
			return x->ids[i] - 1;
	}
	uint32_t id = intern_insert(x, h);
	enc->threads[id] =
	    (struct encoder_thread){.pid = e->pid, .tid = e->tid, .process = e->process};
	uint8_t buf[4 * VARINT_MAX_BYTES];
	size_t len = varint_put(buf, id);
	len += varint_put(buf + len, e->process);
	len += varint_put(buf + len, e->pid);
	len += varint_put(buf + len, e->tid);
	emit(enc, TREC_THREAD, buf, len);
	enc->definitions++;
	return id;
}

static uint32_t encode_key(struct trace_encoder *enc, const struct pyrace_event *e)
{
	size_t n = e->key_len < PYRACE_KEY_MAX ? e->key_len : PYRACE_KEY_MAX;
	if (e->key_kind == PYKEY_NONE && n == 0 && e->key_id == 0)
		return 0;
	uint64_t words[PYRACE_KEY_MAX / 8] = {0};
	memcpy(words, e->key, n);
	uint64_t h = mix(mix(0xa4093822299f31d0ull, e->key_id), (uint64_t)e->key_kind << 8 | n);
	for (size_t i = 0; i < (n + 7) / 8; i++)
		h = mix(h, words[i]);
	struct intern_index *x = &enc->key_ids;
	uint32_t first = intern_set(x, h);
	for (uint32_t i = first; i < first + INTERN_WAYS; i++) {
		if (!x->ids[i] || x->tags[i] != h)
			continue;
		const struct encoder_key *k = &enc->keys[x->ids[i] - 1];
		if (k->id == e->key_id && k->kind == e->key_kind && k->len == n &&
		    memcmp(k->text, e->key, n) == 0)
			return x->ids[i];
	}
	uint32_t id = intern_insert(x, h);
	struct encoder_key *k = &enc->keys[id];
	k->id = e->key_id;
	k->kind = e->key_kind;
	k->len = (uint8_t)n;
	memcpy(k->text, e->key, n);
	uint8_t buf[2 * VARINT_MAX_BYTES + 2 + PYRACE_KEY_MAX];
	size_t len = varint_put(buf, id);
	buf[len++] = e->key_kind;
	len += varint_put(buf + len, e->key_id);
	buf[len++] = (uint8_t)n;
	memcpy(buf + len, e->key, n);
	emit(enc, TREC_KEY, buf, len + n);
	enc->definitions++;
	return id + 1;
}

int trace_encode_event(struct trace_encoder *enc, const struct pyrace_event *e, uint32_t stack)
{
	uint32_t thread = encode_thread(enc, e);
	uint32_t key = encode_key(enc, e);
	struct encoder_thread *t = &enc->threads[thread];
	uint64_t obj = e->obj & TRACE_ADDR_MASK, aux = e->aux & TRACE_ADDR_MASK;
	uint8_t buf[3 + 6 * VARINT_MAX_BYTES];
	size_t len = 0;
	if (e->type < 15 && e->op < 15) {
		buf[len++] = (uint8_t)(e->type << 4 | e->op);
	} else {
		buf[len++] = 0xff;
		buf[len++] = e->type;
		buf[len++] = e->op;
	}
	len += varint_put(buf + len, zigzag((int64_t)(e->ts_ns - enc->last_ts)));
	len += varint_put(buf + len, thread);
	len += varint_put(buf + len, zigzag((int64_t)(obj - t->last_obj)));
	len += varint_put(buf + len, aux ? zigzag((int64_t)(aux - obj)) + 1 : 0);
	len += varint_put(buf + len, key);
	len += varint_put(buf + len, stack);
	enc->last_ts = e->ts_ns;
	t->last_obj = obj;
	emit(enc, TREC_EV, buf, len);
	enc->events++;
	return enc->failed ? -1 : 0;
}

/* ---- reading ---- */

int trace_decoder_init(struct trace_decoder *d, trace_stack_fn intern, void *ctx)
{
	memset(d, 0, sizeof(*d));
	d->intern = intern;
	d->ctx = ctx;
	return 0;
}

void trace_decoder_free(struct trace_decoder *d)
{
	free(d->threads);
	free(d->keys);
	free(d->stacks);
	free(d->stack_frames);
	d->stack_frames = NULL;
	d->threads = NULL;
	d->keys = NULL;
	d->stacks = NULL;
}

static int define_stack(struct trace_decoder *d, const uint8_t *p, const uint8_t *end)
{
	uint64_t id, parent, code, instr;
	if (varint_get(&p, end, &id) || varint_get(&p, end, &parent) || id == 0 ||
	    id > TRACE_STACK_IDS || parent > TRACE_STACK_IDS || end - p < 2)
		return -1;
	uint8_t truncated = p[0] != 0;
	size_t n = p[1];
	p += 2;
	const struct decoder_stack *up =
	    parent && parent < d->stacks_cap ? &d->stacks[parent] : NULL;
	if ((parent && (!up || !up->defined)) || n + (up ? up->nframes : 0) > PYRACE_MAX_FRAMES)
		return -1;
	struct pyrace_frame frames[PYRACE_MAX_FRAMES];
	/* each code address is a difference from the next frame's, the callers' first one for
	 * the last of these */
	uint64_t deltas[PYRACE_MAX_FRAMES];
	for (size_t i = 0; i < n; i++) {
		if (varint_get(&p, end, &code) || varint_get(&p, end, &instr) || instr > UINT32_MAX)
			return -1;
		deltas[i] = (uint64_t)unzigzag(code);
		frames[i].instr = (uint32_t)instr;
		frames[i].reserved = 0;
	}
	const struct pyrace_frame *up_frames = up ? d->stack_frames[parent].f : NULL;
	uint64_t next = up && up->nframes ? up_frames[0].code : 0;
	for (size_t i = n; i > 0; i--)
		next = frames[i - 1].code = next + deltas[i - 1];
	if (up) {
		memcpy(frames + n, up_frames, up->nframes * sizeof(*frames));
		n += up->nframes;
	}
	size_t frames_cap = d->stacks_cap;
	if (grow_array((void **)&d->stack_frames, &frames_cap, id + 1, sizeof(*d->stack_frames),
		       NULL) ||
	    grow_array((void **)&d->stacks, &d->stacks_cap, id + 1, sizeof(*d->stacks), NULL))
		return -1;
	struct decoder_stack *s = &d->stacks[id];
	s->defined = 0;
	uint32_t mine = d->intern(d->ctx, frames, n, truncated);
	if (mine == UINT32_MAX)
		return -1;
	s->id = mine;
	s->nframes = (uint16_t)n;
	s->truncated = truncated;
	s->defined = 1;
	memcpy(d->stack_frames[id].f, frames, n * sizeof(*frames));
	return 0;
}

static int define_thread(struct trace_decoder *d, const uint8_t *p, const uint8_t *end)
{
	uint64_t id, process, pid, tid;
	if (varint_get(&p, end, &id) || varint_get(&p, end, &process) ||
	    varint_get(&p, end, &pid) || varint_get(&p, end, &tid) || id >= TRACE_THREAD_IDS ||
	    process > TRACE_MAX_PROCESSES || pid > UINT32_MAX || tid > UINT32_MAX ||
	    grow_array((void **)&d->threads, &d->threads_cap, id + 1, sizeof(*d->threads), NULL))
		return -1;
	d->threads[id] = (struct decoder_thread){
	    .pid = (uint32_t)pid, .tid = (uint32_t)tid, .process = (uint16_t)process, .defined = 1};
	return 0;
}

static int define_key(struct trace_decoder *d, const uint8_t *p, const uint8_t *end)
{
	uint64_t id, key_id;
	if (varint_get(&p, end, &id) || id >= TRACE_KEY_IDS || p == end)
		return -1;
	uint8_t kind = *p++;
	if (varint_get(&p, end, &key_id) || p == end)
		return -1;
	size_t n = *p++;
	if (n > PYRACE_KEY_MAX || (size_t)(end - p) < n ||
	    grow_array((void **)&d->keys, &d->keys_cap, id + 1, sizeof(*d->keys), NULL))
		return -1;
	struct decoder_key *k = &d->keys[id];
	k->id = key_id;
	k->kind = kind;
	k->len = (uint8_t)n;
	k->defined = 1;
	memcpy(k->text, p, n);
	return 0;
}

int trace_decode_definition(struct trace_decoder *d, uint32_t type, const uint8_t *p, size_t len)
{
	switch (type) {
	case TREC_THREAD:
		return define_thread(d, p, p + len);
	case TREC_KEY:
		return define_key(d, p, p + len);
	case TREC_STACK:
		return define_stack(d, p, p + len);
	default:
		return -1;
	}
}

int trace_decode_event(struct trace_decoder *d, const uint8_t *p, size_t len,
		       struct trace_event *out)
{
	const uint8_t *end = p + len;
	if (len == 0)
		return -1;
	uint8_t type = (uint8_t)(*p >> 4), op = (uint8_t)(*p & 15);
	if (*p++ == 0xff) {
		if (end - p < 2)
			return -1;
		type = p[0];
		op = p[1];
		p += 2;
	}
	uint64_t ts, thread, obj, aux, key, stack;
	if (varint_get(&p, end, &ts) || varint_get(&p, end, &thread) || varint_get(&p, end, &obj) ||
	    varint_get(&p, end, &aux) || varint_get(&p, end, &key) || varint_get(&p, end, &stack))
		return -1;
	if (thread >= d->threads_cap || key > d->keys_cap || (stack && stack >= d->stacks_cap))
		return -1;
	struct decoder_thread *t = &d->threads[thread];
	const struct decoder_key *k = key ? &d->keys[key - 1] : NULL;
	const struct decoder_stack *s = stack ? &d->stacks[stack] : NULL;
	if (!t->defined || (k && !k->defined) || (s && !s->defined))
		return -1;
	d->last_ts += (uint64_t)unzigzag(ts);
	uint64_t o = (t->last_obj + (uint64_t)unzigzag(obj)) & TRACE_ADDR_MASK;
	uint64_t a = aux ? (o + (uint64_t)unzigzag(aux - 1)) & TRACE_ADDR_MASK : 0;
	t->last_obj = o;
	out->ts_ns = d->last_ts;
	out->obj = o ? trace_tag_addr(t->process, o) : 0;
	out->aux = a ? trace_tag_addr(t->process, a) : 0;
	out->pid = t->pid;
	out->tid = t->tid;
	out->thread_memo = &t->memo;
	out->process = t->process;
	out->type = type;
	out->op = op;
	if (k) {
		out->key_id = k->id;
		out->key_kind = k->kind;
		out->key_len = k->len;
		out->key = k->text;
	} else {
		out->key_id = 0;
		out->key_kind = 0;
		out->key_len = 0;
		out->key = "";
	}
	out->stack = s ? s->id : 0;
	out->nframes = s ? s->nframes : 0;
	out->truncated = s ? s->truncated : 0;
	return 0;
}

void trace_event_from_v1(const struct pyrace_event *e, uint32_t stack, struct trace_event *out)
{
	*out = (struct trace_event){
	    .ts_ns = e->ts_ns,
	    .obj = e->obj,
	    .aux = e->aux,
	    .key_id = e->key_id,
	    .key = e->key,
	    .pid = e->pid,
	    .tid = e->tid,
	    .stack = stack,
	    .process = e->process,
	    .nframes = e->nframes,
	    .type = e->type,
	    .op = e->op,
	    .key_kind = e->key_kind,
	    .key_len = e->key_len < PYRACE_KEY_MAX ? e->key_len : PYRACE_KEY_MAX,
	    .truncated = e->truncated,
	};
}
