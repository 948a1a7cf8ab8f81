/* Analysing a trace file: records in, a report (plain data for the renderers) out. */
#include "analysis.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "code_table.h"
#include "event_names.h"
#include "hb.h"
#include "trace_io.h"

struct analysis_process {
	uint32_t pid, ppid;
	char *executable;
	char **argv;
	size_t argc;
	char *command; /* argv joined, for the text report */
};

struct analysis {
	struct code_table code;
	struct hb hb;
	struct report report;
	struct trace_stats stats;
	/* everything the report points to, freed together */
	void **owned;
	size_t nowned, owned_cap;
	char **argv;
	size_t argc;
	char *python_version, *executable, *build;
	uint32_t pid;
	int no_reads;
	/* TREC_PROCESS records, by number - 1 (a number never seen is an empty entry) */
	struct analysis_process *procs;
	size_t nprocs;
	struct trace_decoder decoder; /* format 2: threads, keys and stacks by id */
};

static void *own(struct analysis *a, void *p)
{
	if (!p)
		return NULL;
	if (a->nowned == a->owned_cap) {
		size_t cap = a->owned_cap ? a->owned_cap * 2 : 64;
		void **grown = realloc(a->owned, cap * sizeof(*grown));
		if (!grown) {
			free(p);
			return NULL;
		}
		a->owned = grown;
		a->owned_cap = cap;
	}
	a->owned[a->nowned++] = p;
	return p;
}

static char *own_printf(struct analysis *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *own_printf(struct analysis *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return own(a, s);
}

/* Frees what a target record gave, so that a later one (in a corrupt trace) replaces it. */
static void forget_target(struct analysis *a)
{
	for (size_t i = 0; i < a->argc; i++)
		free(a->argv[i]);
	free(a->argv);
	free(a->python_version);
	free(a->executable);
	free(a->build);
	a->argv = NULL;
	a->argc = 0;
	a->python_version = a->executable = a->build = NULL;
}

static void read_target(struct analysis *a, struct trace_buf *b)
{
	forget_target(a);
	a->pid = trace_get_u32(b);
	a->python_version = trace_get_str(b);
	a->executable = trace_get_str(b);
	a->build = trace_get_str(b);
	uint32_t argc = trace_get_u32(b);
	if (b->error || argc > 65536)
		return;
	a->argv = calloc(argc ? argc : 1, sizeof(*a->argv));
	/* a record cut short keeps the arguments read so far, never a NULL one */
	for (uint32_t i = 0; a->argv && i < argc; i++) {
		char *arg = trace_get_str(b);
		if (!arg)
			break;
		a->argv[a->argc++] = arg;
	}
}

static void free_process(struct analysis_process *p)
{
	for (size_t i = 0; i < p->argc; i++)
		free(p->argv[i]);
	free(p->argv);
	free(p->executable);
	free(p->command);
	memset(p, 0, sizeof(*p));
}

static char *join_argv(char *const *argv, size_t argc)
{
	size_t len = 1;
	for (size_t i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

static void read_process(struct analysis *a, struct trace_buf *b)
{
	uint32_t number = trace_get_u32(b);
	uint32_t pid = trace_get_u32(b), ppid = trace_get_u32(b);
	if (b->error || number == 0 || number > TRACE_MAX_PROCESSES)
		return;
	if (number > a->nprocs) {
		struct analysis_process *grown = realloc(a->procs, number * sizeof(*grown));
		if (!grown)
			return;
		memset(grown + a->nprocs, 0, (number - a->nprocs) * sizeof(*grown));
		a->procs = grown;
		a->nprocs = number;
	}
	struct analysis_process *p = &a->procs[number - 1];
	free_process(p);
	p->pid = pid;
	p->ppid = ppid;
	p->executable = trace_get_str(b);
	uint32_t argc = trace_get_u32(b);
	if (b->error || argc > 65536)
		return;
	p->argv = calloc(argc ? argc : 1, sizeof(*p->argv));
	for (uint32_t i = 0; p->argv && i < argc; i++) {
		char *arg = trace_get_str(b);
		if (!arg)
			break;
		p->argv[p->argc++] = arg;
	}
	p->command = p->argv ? join_argv(p->argv, p->argc) : NULL;
}

static void read_stats(struct analysis *a, struct trace_buf *b)
{
	struct trace_stats s;
	s.lost_events = trace_get_u64(b);
	s.truncated_stacks = trace_get_u64(b);
	s.unresolved_code = trace_get_u64(b);
	s.duration_ns = trace_get_u64(b);
	s.exit_status = (int32_t)trace_get_u32(b);
	s.ended_early = trace_get_u32(b);
	s.untraced_processes = b->pos < b->len ? trace_get_u32(b) : 0;
	if (!b->error)
		a->stats = s;
}

static void feed_event(struct analysis *a, struct trace_buf *b)
{
	struct pyrace_event e;
	if (b->len < PYRACE_EVENT_HEADER_SIZE || b->len > sizeof(e))
		return;
	memset(&e, 0, sizeof(e));
	memcpy(&e, b->data, b->len);
	size_t room = (b->len - PYRACE_EVENT_HEADER_SIZE) / sizeof(struct pyrace_frame);
	if (e.nframes > room)
		e.nframes = (uint8_t)room;
	hb_event(&a->hb, &e);
}

/* Events decoded but not yet analysed: hb_prefetch brings in what they will touch while the
 * events before them are analysed. Any other record empties it first, so that hb and the code
 * table see records in trace order, and ids the window's events refer to stay defined. */
#define WINDOW		   64 /* a power of two: positions by masking */
#define STAGE		   16 /* events between the stages of hb_prefetch */
#define PREFETCH_FROM_KEYS 16384

struct window {
	struct trace_event ev[WINDOW];
	size_t first, n;
};

/* Where the next event is decoded to; the oldest is analysed first when the window is full. */
static struct trace_event *window_slot(struct analysis *a, struct window *w)
{
	if (w->n == WINDOW) {
		hb_feed(&a->hb, &w->ev[w->first]);
		w->first = (w->first + 1) % WINDOW;
		w->n--;
	}
	return &w->ev[(w->first + w->n) % WINDOW];
}

/* The event decoded into window_slot() joins the window. */
static void window_push(struct analysis *a, struct window *w)
{
	size_t last = (w->first + w->n) % WINDOW;
	w->n++;
	/* while the keys' shadows fit the caches, looking ahead only costs */
	if (a->hb.nshadows < PREFETCH_FROM_KEYS)
		return;
	for (int stage = 0; stage < 3 && (size_t)stage * STAGE < w->n; stage++)
		hb_prefetch(&a->hb, &w->ev[(last + WINDOW - (size_t)stage * STAGE) % WINDOW],
			    stage);
}

static void window_drain(struct analysis *a, struct window *w)
{
	for (; w->n; w->n--, w->first = (w->first + 1) % WINDOW)
		hb_feed(&a->hb, &w->ev[w->first]);
}

static uint32_t intern_stack(void *ctx, const struct pyrace_frame *frames, size_t n, int truncated)
{
	struct analysis *a = ctx;
	return code_table_intern_stack(&a->code, frames, n, truncated);
}

/* ---- turning detector state into the report ---- */

static const char *thread_name(struct analysis *a, uint32_t t)
{
	const struct hb_thread *th = &a->hb.threads[t];
	if (th->ordinal == 0)
		return "MainThread";
	const char *func = NULL;
	const struct stack_entry *s =
	    th->has_name_stack ? code_table_stack(&a->code, th->name_stack) : NULL;
	/* the outermost frame outside threading.py names what the thread runs */
	for (size_t i = s ? s->nframes : 0; i > 0; i--) {
		const struct code_entry *c =
		    code_table_get(&a->code, a->code.frames[s->offset + i - 1].code);
		size_t n = c ? strlen(c->file) : 0;
		if (c && !(n >= 12 && strcmp(c->file + n - 12, "threading.py") == 0)) {
			func = c->qualname;
			break;
		}
	}
	if (func)
		return own_printf(a, "Thread-%u (%s)", th->ordinal, func);
	return own_printf(a, "Thread-%u", th->ordinal);
}

static const char *key_text(struct analysis *a, const struct hb_shadow *s)
{
	switch (s->key_kind) {
	case PYKEY_STR:
		return s->key_text ? s->key_text : "";
	case PYKEY_INT:
		return own_printf(a, "%" PRId64, (int64_t)s->key_id);
	default:
		return own_printf(a, "<%s>#%016" PRIx64,
				  s->key_text && *s->key_text ? s->key_text : "object", s->key_id);
	}
}

static const char *key_type(const struct hb_shadow *s)
{
	return s->key_kind == PYKEY_STR ? "str" : s->key_kind == PYKEY_INT ? "int" : "object";
}

/* Set elements other than str and small int are told apart by type only (the probe sees no
 * hash of theirs): `<tuple>`, with no number that would change from run to run. */
static const char *element_text(struct analysis *a, const struct hb_shadow *s)
{
	if (s->key_kind == PYKEY_STR || s->key_kind == PYKEY_INT)
		return key_text(a, s);
	return own_printf(a, "<%s>", s->key_text && *s->key_text ? s->key_text : "object");
}

static int is_whole_set_op(uint8_t op)
{
	return op == PYOP_CLEAR || op == PYOP_UPDATE || op == PYOP_POPITEM || op == PYOP_ITERATE;
}

static const char *lock_name(struct analysis *a, uint32_t lock)
{
	const struct hb_lock *l = &a->hb.locks[lock];
	if (l->binding >= 0) {
		const struct hb_shadow *s = &a->hb.shadows[l->binding];
		const struct hb_var *v = &a->hb.vars[s->var];
		if (v->kind == HB_VAR_MODULE)
			return own_printf(a, "%s.%s", v->module, s->key_text ? s->key_text : "?");
		struct report_variable rv = {.module = v->module,
					     .name = v->name,
					     .container = "dict",
					     .key = key_text(a, s),
					     .key_type = key_type(s)};
		char buf[512];
		report_variable_name(&rv, buf, sizeof(buf));
		return own(a, strdup(buf));
	}
	return own_printf(a, "lock@0x%" PRIx64, (uint64_t)(l->addr & TRACE_ADDR_MASK));
}

static struct report_stack build_stack(struct analysis *a, uint32_t id)
{
	struct report_stack out = {0};
	const struct stack_entry *s = code_table_stack(&a->code, id);
	if (!s || s->nframes == 0) {
		out.truncated = s ? s->truncated : 0;
		return out;
	}
	struct report_frame *frames = own(a, calloc(s->nframes, sizeof(*frames)));
	if (!frames)
		return out;
	for (size_t i = 0; i < s->nframes; i++) {
		const struct pyrace_frame *f = &a->code.frames[s->offset + i];
		const struct code_entry *c = code_table_get(&a->code, f->code);
		if (c) {
			frames[i] = (struct report_frame){c->file, c->qualname,
							  code_entry_line(c, f->instr)};
		} else {
			frames[i] =
			    (struct report_frame){"<unknown>",
						  own_printf(a, "<code@0x%" PRIx64 ">",
							     (uint64_t)(f->code & TRACE_ADDR_MASK)),
						  -1};
		}
	}
	out.frames = frames;
	out.nframes = s->nframes;
	out.truncated = s->truncated;
	return out;
}

/* pytest's node id of the test a stack runs in: test_file.py::Class::test_name. */
static const char *test_id(struct analysis *a, uint32_t stack)
{
	if (stack == UINT32_MAX)
		return NULL;
	int i = hb_test_frame(&a->hb, stack);
	const struct stack_entry *s = code_table_stack(&a->code, stack);
	if (i < 0 || !s)
		return NULL;
	const struct code_entry *c = code_table_get(&a->code, a->code.frames[s->offset + i].code);
	if (!c)
		return NULL;
	const char *base = strrchr(c->file, '/');
	base = base ? base + 1 : c->file;
	/* Class.test -> Class::test, as pytest names it */
	size_t n = strlen(base) + 2 + 2 * strlen(c->qualname) + 1;
	char *id = own(a, malloc(n));
	if (!id)
		return NULL;
	char *p = id + snprintf(id, n, "%s::", base);
	for (const char *q = c->qualname; *q; q++) {
		if (*q == '.') {
			*p++ = ':';
			*p++ = ':';
		} else {
			*p++ = *q;
		}
	}
	*p = '\0';
	return id;
}

/* The thread a spawn event started: the first to begin with its boot pointer after it. */
static const char *spawned_thread(struct analysis *a, const struct hb_sync *s)
{
	const struct hb_thread *best = NULL;
	for (size_t i = 0; i < a->hb.nthreads; i++) {
		const struct hb_thread *th = &a->hb.threads[i];
		if (th->boot == s->obj && th->begin_seq > s->seq &&
		    (!best || th->begin_seq < best->begin_seq))
			best = th;
	}
	return best ? thread_name(a, (uint32_t)(best - a->hb.threads)) : "a thread";
}

static struct report_sync build_sync(struct analysis *a, const struct hb_sync *s)
{
	struct report_sync r = {.seq = s->seq, .ts_ns = s->ts_ns, .object = ""};
	const struct hb_lock *l = NULL;
	switch (s->kind) {
	case HB_SYNC_ACQUIRE:
	case HB_SYNC_RELEASE:
		r.what = s->kind == HB_SYNC_ACQUIRE ? "acquire" : "release";
		r.object = lock_name(a, (uint32_t)s->obj);
		break;
	case HB_SYNC_JOIN:
		r.what = "join";
		l = &a->hb.locks[s->obj];
		r.object = l->owner ? thread_name(a, l->owner - 1) : "a thread";
		break;
	case HB_SYNC_EXIT:
		r.what = "end";
		break;
	case HB_SYNC_SPAWN:
		r.what = "start";
		r.object = spawned_thread(a, s);
		break;
	case HB_SYNC_BEGIN:
		r.what = "begin";
		break;
	case HB_SYNC_PUT:
	case HB_SYNC_GET:
		r.what = s->kind == HB_SYNC_PUT ? "put" : "get";
		r.object = own_printf(a, "queue@0x%" PRIx64, s->obj);
		break;
	default:
		r.what = s->kind == HB_SYNC_REGISTRY_REMOVE ? "registry remove" : "registry insert";
		r.object = own_printf(a, "registry@0x%" PRIx64, s->obj);
		break;
	}
	if (!r.object)
		r.object = "";
	return r;
}

static void build_syncs(struct analysis *a, const struct hb_sync_history *h,
			struct report_access *out)
{
	out->syncs_not_kept = h->total - h->n;
	if (!h->n)
		return;
	struct report_sync *syncs = own(a, calloc(h->n, sizeof(*syncs)));
	if (!syncs)
		return;
	for (size_t i = 0; i < h->n; i++)
		syncs[i] = build_sync(a, &h->items[i]);
	out->syncs = syncs;
	out->nsyncs = h->n;
}

static struct report_access build_access(struct analysis *a, const struct hb_access *x)
{
	struct report_access r = {0};
	r.op = access_op_name(x->op);
	const struct hb_thread *th = &a->hb.threads[x->thread];
	r.thread.tid = th->tid;
	r.thread.pid = th->pid;
	r.thread.name = thread_name(a, x->thread);
	if (th->parent && th->spawn_stack != UINT32_MAX) {
		struct report_stack *st = own(a, malloc(sizeof(*st)));
		if (st) {
			*st = build_stack(a, th->spawn_stack);
			r.thread.created_at = st;
			r.thread.created_by = thread_name(a, th->parent - 1);
		}
	}
	if (a->nprocs > 1 && th->process && th->process <= a->nprocs)
		r.thread.process = a->procs[th->process - 1].command;
	const uint32_t *locks;
	size_t n = hb_lockset(&a->hb, x->lockset, &locks);
	if (n) {
		const char **names = own(a, calloc(n, sizeof(*names)));
		const struct report_stack **made = own(a, calloc(n, sizeof(*made)));
		for (size_t i = 0; names && i < n; i++) {
			names[i] = lock_name(a, locks[i]);
			uint32_t created = a->hb.locks[locks[i]].created;
			struct report_stack *st =
			    made && created != UINT32_MAX ? own(a, malloc(sizeof(*st))) : NULL;
			if (st) {
				*st = build_stack(a, created);
				made[i] = st;
			}
		}
		r.locks_held = names;
		r.nlocks = names ? n : 0;
		r.locks_created = made;
	}
	r.stack = build_stack(a, x->stack);
	r.test = test_id(a, x->test);
	r.seq = x->seq;
	r.ts_ns = x->ts_ns;
	return r;
}

static const char *race_kind(const struct hb_race *r)
{
	if (!hb_op_is_write(r->current.op))
		return "write-read";
	return hb_op_is_write(r->previous.op) ? "write-write" : "read-write";
}

static int compare_races(const void *x, const void *y)
{
	const struct report_race *a = x, *b = y;
	char na[512], nb[512];
	report_variable_name(&a->variable, na, sizeof(na));
	report_variable_name(&b->variable, nb, sizeof(nb));
	int c = strcmp(na, nb);
	return c ? c : strcmp(a->id, b->id);
}

/* The cycle from its least-named lock, so that its text does not depend on lock addresses. */
static size_t first_edge(const char *const *held, size_t n)
{
	size_t start = 0;
	for (size_t i = 1; i < n; i++)
		if (strcmp(held[i], held[start]) < 0)
			start = i;
	return start;
}

static int build_deadlock(struct analysis *a, const struct lockorder_cycle *c,
			  struct report_deadlock *out)
{
	const struct lockorder *lo = &a->hb.order;
	const char *held[LOCKORDER_MAX_CYCLE];
	for (size_t i = 0; i < c->n; i++)
		held[i] = lock_name(a, lo->edges[c->edges[i]].from);
	const char **locks = own(a, calloc(c->n, sizeof(*locks)));
	struct report_lock_edge *edges = own(a, calloc(c->n, sizeof(*edges)));
	if (!locks || !edges)
		return -1;
	size_t start = first_edge(held, c->n);
	uint64_t least = UINT64_MAX;
	for (size_t k = 0; k < c->n; k++) {
		size_t i = (start + k) % c->n;
		const struct lockorder_edge *e = &lo->edges[c->edges[i]];
		locks[k] = held[i];
		edges[k] = (struct report_lock_edge){
		    .held = held[i],
		    .acquired = held[(i + 1) % c->n],
		    .thread = {.tid = a->hb.threads[e->thread].tid,
			       .name = thread_name(a, e->thread)},
		    .held_stack = build_stack(a, e->from_stack),
		    .acquired_stack = build_stack(a, e->to_stack),
		};
		if (e->occurrences < least)
			least = e->occurrences;
	}
	*out = (struct report_deadlock){
	    .locks = locks, .nlocks = c->n, .edges = edges, .nedges = c->n, .occurrences = least};
	report_deadlock_compute_id(out);
	return 0;
}

static int compare_deadlocks(const void *x, const void *y)
{
	const struct report_deadlock *a = x, *b = y;
	char ca[1024], cb[1024];
	report_deadlock_cycle(a, ca, sizeof(ca));
	report_deadlock_cycle(b, cb, sizeof(cb));
	int c = strcmp(ca, cb);
	return c ? c : strcmp(a->id, b->id);
}

/* One report per id: the same code taking locks made anew (one per object or per call) in the
 * wrong order makes a cycle per lock pair, and one report says it all. */
static void build_deadlocks(struct analysis *a)
{
	struct lockorder_cycle *cycles = calloc(LOCKORDER_MAX_CYCLES, sizeof(*cycles));
	size_t n = cycles ? lockorder_cycles(&a->hb.order, cycles, LOCKORDER_MAX_CYCLES) : 0;
	struct report_deadlock *out = own(a, calloc(n ? n : 1, sizeof(*out)));
	size_t kept = 0;
	for (size_t i = 0; out && i < n; i++) {
		if (build_deadlock(a, &cycles[i], &out[kept]))
			break;
		size_t j = 0;
		while (j < kept && strcmp(out[j].id, out[kept].id) != 0)
			j++;
		if (j < kept)
			out[j].occurrences += out[kept].occurrences;
		else
			kept++;
	}
	free(cycles);
	if (!out)
		return;
	qsort(out, kept, sizeof(*out), compare_deadlocks);
	a->report.deadlocks = out;
	a->report.ndeadlocks = kept;
}

static void build_report(struct analysis *a)
{
	struct report *r = &a->report;
	r->target = (struct report_target){
	    .pid = (int)a->pid,
	    .argv = (const char *const *)a->argv,
	    .argc = a->argc,
	    .python_version = a->python_version,
	    .executable = a->executable,
	    .build = a->build,
	};
	if (a->nprocs > 1) {
		struct report_process *ps = own(a, calloc(a->nprocs, sizeof(*ps)));
		size_t n = 0;
		for (size_t i = 0; ps && i < a->nprocs; i++) {
			const struct analysis_process *p = &a->procs[i];
			if (!p->pid)
				continue;
			ps[n++] = (struct report_process){.pid = (int)p->pid,
							  .ppid = (int)p->ppid,
							  .argv = (const char *const *)p->argv,
							  .argc = p->argc,
							  .executable = p->executable};
		}
		r->processes = ps;
		r->nprocesses = ps ? n : 0;
	}
	r->stats = (struct report_stats){
	    .events = a->hb.events,
	    .lost_events = a->stats.lost_events,
	    .threads = a->hb.nthreads,
	    .watched_dicts = a->hb.watched_dicts,
	    .truncated_stacks = a->hb.truncated_stacks,
	    .unresolved_frames = a->stats.unresolved_code,
	    .untraced_processes = a->stats.untraced_processes,
	    .duration_s = (double)a->stats.duration_ns / 1e9,
	    .ended_early = (int)a->stats.ended_early,
	    .no_reads = a->no_reads,
	};
	struct report_race *races = own(a, calloc(a->hb.nraces ? a->hb.nraces : 1, sizeof(*races)));
	if (!races)
		return;
	for (size_t i = 0; i < a->hb.nraces; i++) {
		const struct hb_race *h = &a->hb.races[i];
		const struct hb_var *v = &a->hb.vars[h->var];
		struct report_race *out = &races[i];
		const struct hb_shadow *s =
		    h->shadow == UINT32_MAX ? NULL : &a->hb.shadows[h->shadow];
		if (v->kind == HB_VAR_MODULE) {
			out->variable =
			    (struct report_variable){.module = v->module,
						     .name = s && s->key_text ? s->key_text : "*",
						     .container = "global"};
		} else if (v->kind == HB_VAR_GLOBAL_LIST) {
			out->variable = (struct report_variable){
			    .module = v->module, .name = v->name, .container = "list"};
		} else if (v->kind == HB_VAR_GLOBAL_SET) {
			/* a whole-set operation (clear, iteration) is named after the set alone */
			int whole =
			    is_whole_set_op(h->current.op) || is_whole_set_op(h->previous.op);
			out->variable =
			    (struct report_variable){.module = v->module,
						     .name = v->name,
						     .container = "set",
						     .key = s && !whole ? element_text(a, s) : NULL,
						     .key_type = s && !whole ? key_type(s) : NULL};
		} else {
			out->variable =
			    (struct report_variable){.module = v->module,
						     .name = v->name,
						     .container = "dict",
						     .key = s ? key_text(a, s) : NULL,
						     .key_type = s ? key_type(s) : NULL};
		}
		out->kind = race_kind(h);
		out->current = build_access(a, &h->current);
		out->previous = build_access(a, &h->previous);
		build_syncs(a, &h->current_sync, &out->current);
		build_syncs(a, &h->previous_sync, &out->previous);
		out->occurrences = h->occurrences;
		out->predicted = h->predicted;
		report_race_compute_id(out);
	}
	qsort(races, a->hb.nraces, sizeof(*races), compare_races);
	r->races = races;
	r->nraces = a->hb.nraces;
	build_deadlocks(a);
}

struct analysis *analysis_of_trace(const char *path, char *why, size_t whylen, char *warning,
				   size_t warnlen)
{
	return analysis_of_trace_mode(path, 0, why, whylen, warning, warnlen);
}

struct analysis *analysis_of_trace_mode(const char *path, int predict, char *why, size_t whylen,
					char *warning, size_t warnlen)
{
	warning[0] = '\0';
	struct trace_reader *reader = trace_reader_open(path, why, whylen);
	if (!reader)
		return NULL;
	struct analysis *a = calloc(1, sizeof(*a));
	if (!a) {
		trace_reader_close(reader);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	code_table_init(&a->code);
	hb_init(&a->hb, &a->code);
	if (trace_decoder_init(&a->decoder, intern_stack, a)) {
		trace_reader_close(reader);
		analysis_free(a);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	hb_set_predict(&a->hb, predict);
	a->stats.exit_status = -1;
	uint32_t type;
	struct trace_buf payload;
	int rc, saw_stats = 0, saw_target = 0;
	struct window window = {.n = 0};
	struct window *w = &window;
	while ((rc = trace_reader_next(reader, &type, &payload, warning, warnlen)) == 1) {
		if (type == TREC_EV) {
			if (trace_decode_event(&a->decoder, payload.data, payload.len,
					       window_slot(a, w)) == 0)
				window_push(a, w);
			continue;
		}
		window_drain(a, w);
		switch (type) {
		case TREC_THREAD:
		case TREC_KEY:
		case TREC_STACK:
			trace_decode_definition(&a->decoder, type, payload.data, payload.len);
			break;
		case TREC_TARGET:
			read_target(a, &payload);
			hb_set_main_pid(&a->hb, a->pid);
			saw_target = 1;
			break;
		case TREC_PROCESS:
			read_process(a, &payload);
			break;
		case TREC_EVENT:
			feed_event(a, &payload);
			break;
		case TREC_CODE:
			code_table_add(&a->code, &payload);
			break;
		case TREC_LOST:
			a->stats.lost_events = trace_get_u64(&payload);
			break;
		case TREC_MODE:
			a->no_reads = (trace_get_u32(&payload) & TMODE_NO_READS) != 0;
			break;
		case TREC_STATS:
			read_stats(a, &payload);
			saw_stats = 1;
			break;
		default:
			break; /* a newer writer's record: skip it */
		}
	}
	window_drain(a, w);
	trace_reader_close(reader);
	if (!saw_target) {
		snprintf(why, whylen, "%s: %s", path,
			 rc < 0 ? warning : "the trace holds no target record");
		analysis_free(a);
		return NULL;
	}
	if (rc == 0 && !saw_stats)
		snprintf(warning, warnlen,
			 "the trace ends before its final record: the run was interrupted");
	if (rc != 0 || !saw_stats)
		a->stats.ended_early = 1;
	if (a->hb.out_of_memory || a->hb.order.out_of_memory)
		snprintf(warning, warnlen, "out of memory during analysis: results are incomplete");
	build_report(a);
	return a;
}

const struct report *analysis_report(const struct analysis *a)
{
	return &a->report;
}

void analysis_free(struct analysis *a)
{
	if (!a)
		return;
	hb_free(&a->hb);
	code_table_free(&a->code);
	trace_decoder_free(&a->decoder);
	for (size_t i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	free(a->owned);
	forget_target(a);
	for (size_t i = 0; i < a->nprocs; i++)
		free_process(&a->procs[i]);
	free(a->procs);
	free(a);
}
