/* Happens-before race detection over trace events: vector clocks, FastTrack-style epochs. */
#include "hb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* Modules whose globals are the runtime's own bookkeeping, updated under C-level locks that no
 * probe sees (import lock, GIL): never reported. sys.modules is modelled as publication. */
static const char *const runtime_modules[] = {
    "threading",
    "sys",
    "builtins",
    "_frozen_importlib",
    "_frozen_importlib_external",
    "importlib._bootstrap",
    "importlib._bootstrap_external",
    "zipimport",
};

/* threading's internal locks order thread bookkeeping, not the program's data: counting them
 * would order every thread start after every earlier thread end and hide real races. */
static const char *const runtime_locks[] = {"_active_limbo_lock", "_shutdown_locks_lock"};

void hb_init(struct hb *h, struct code_table *code)
{
	memset(h, 0, sizeof(*h));
	h->code = code;
	u64map_init(&h->thread_by_tid);
	u64map_init(&h->next_ordinal);
	u64map_init(&h->lock_by_addr);
	u64map_init(&h->var_by_addr);
	u64map_init(&h->shadow_by_key);
	u64map_init(&h->binding_by_obj);
	u64map_init(&h->spawn_clock);
	u64map_init(&h->channel_clock);
	u64map_init(&h->channel_pending);
	u64map_init(&h->registry_by_dict);
	u64map_init(&h->spawn_site);
	h->main_test_stack = UINT32_MAX;
	u64map_init(&h->registry_clock);
	u64map_init(&h->lockset_by_hash);
	u64map_init(&h->race_by_hash);
	lockorder_init(&h->order);
	wcp_init(&h->wcp);
}

void hb_free(struct hb *h)
{
	for (size_t i = 0; i < h->nthreads; i++) {
		vclock_free(&h->threads[i].vc);
		free(h->threads[i].held);
		free(h->threads[i].held_stacks);
	}
	for (size_t i = 0; i < h->nlocks; i++)
		vclock_free(&h->locks[i].vc);
	for (size_t i = 0; i < h->nvars; i++) {
		free(h->vars[i].module);
		free(h->vars[i].name);
		free(h->vars[i].shadows);
		free(h->vars[i].whole_reads);
	}
	for (size_t i = 0; i < h->nshadows; i++) {
		free(h->shadows[i].key_text);
		free(h->shadows[i].reads);
		vclock_free(&h->shadows[i].publication);
	}
	for (size_t i = 0; i < h->nvcs; i++)
		vclock_free(&h->vcs[i]);
	free(h->threads);
	free(h->locks);
	free(h->vars);
	free(h->shadows);
	free(h->vcs);
	free(h->lockset_items);
	free(h->races);
	free(h->test_frame);
	free(h->tstate_lock);
	u64map_free(&h->next_ordinal);
	struct u64map *maps[] = {&h->thread_by_tid, &h->lock_by_addr,	  &h->var_by_addr,
				 &h->shadow_by_key, &h->binding_by_obj,	  &h->spawn_clock,
				 &h->channel_clock, &h->channel_pending,  &h->lockset_by_hash,
				 &h->race_by_hash,  &h->registry_by_dict, &h->registry_clock,
				 &h->spawn_site};
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		u64map_free(maps[i]);
	lockorder_free(&h->order);
	wcp_free(&h->wcp);
}

void hb_set_predict(struct hb *h, int on)
{
	h->predict = on;
}

void hb_set_main_pid(struct hb *h, uint32_t pid)
{
	h->main_pid = pid;
}

static char *text_of(const struct trace_event *e)
{
	size_t n = e->key_len;
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, e->key, n);
		s[n] = '\0';
	}
	return s;
}

static int is_runtime_module(const char *name)
{
	for (size_t i = 0; i < sizeof(runtime_modules) / sizeof(runtime_modules[0]); i++)
		if (strcmp(name, runtime_modules[i]) == 0)
			return 1;
	return 0;
}

/* ---- threads ---- */

/* Threads are told apart by process too: a tid names another thread once its process is gone, and
 * a forked child's main thread is not its parent's. */
static uint32_t new_thread(struct hb *h, const struct trace_event *e)
{
	if (grow_array((void **)&h->threads, &h->threads_cap, h->nthreads + 1, sizeof(*h->threads),
		       &h->out_of_memory))
		return UINT32_MAX;
	uint64_t *given = u64map_put(&h->next_ordinal, e->process, 0, NULL);
	if (!given)
		return UINT32_MAX;
	uint32_t idx = (uint32_t)h->nthreads++;
	h->thread_generation++;
	struct hb_thread *t = &h->threads[idx];
	memset(t, 0, sizeof(*t));
	t->tid = e->tid;
	t->pid = e->pid;
	t->spawn_stack = UINT32_MAX;
	t->process = e->process;
	t->ordinal = e->tid == e->pid || e->tid == h->main_pid ? 0 : (uint32_t)++ * given;
	vclock_set(&t->vc, idx, 1);
	uint64_t *slot = u64map_put(&h->thread_by_tid, e->tid, e->process, NULL);
	if (slot)
		*slot = idx + 1;
	return idx;
}

static uint32_t thread_of(struct hb *h, const struct trace_event *e)
{
	uint64_t memo = e->thread_memo ? *e->thread_memo : 0;
	if (memo && memo >> 32 == h->thread_generation)
		return (uint32_t)memo - 1;
	uint64_t *slot = u64map_get(&h->thread_by_tid, e->tid, e->process);
	uint32_t t = slot ? (uint32_t)(*slot - 1) : new_thread(h, e);
	if (e->thread_memo && t != UINT32_MAX)
		*e->thread_memo = (uint64_t)h->thread_generation << 32 | (t + 1);
	return t;
}

static void note_sync(struct hb *h, uint32_t t, const struct trace_event *e, uint8_t kind,
		      uint64_t obj)
{
	struct hb_sync_ring *r = &h->threads[t].recent;
	r->items[r->total % HB_SYNC_HISTORY] =
	    (struct hb_sync){.seq = h->events, .ts_ns = e->ts_ns, .obj = obj, .kind = kind};
	r->total++;
}

/* A thread's recent sync events, oldest first, as a race keeps them. */
static struct hb_sync_history history_of(const struct hb *h, uint32_t t)
{
	const struct hb_sync_ring *r = &h->threads[t].recent;
	struct hb_sync_history out = {.total = r->total};
	out.n = (uint8_t)(r->total < HB_SYNC_HISTORY ? r->total : HB_SYNC_HISTORY);
	for (uint64_t i = 0; i < out.n; i++)
		out.items[i] = r->items[(r->total - out.n + i) % HB_SYNC_HISTORY];
	return out;
}

static void tick(struct hb *h, uint32_t t)
{
	struct hb_thread *th = &h->threads[t];
	vclock_set(&th->vc, t, vclock_get(&th->vc, t) + 1);
}

/* Does access `a` happen before the current point of thread `t`? */
static inline int hb_ordered(const struct hb *h, const struct hb_access *a, uint32_t t)
{
	return a->thread == t || a->clock <= vclock_get(&h->threads[t].vc, a->thread);
}

/* Is `a` ordered before the current point of `t`: by happens-before, or under --predict by
 * weak causal precedence (which orders less). */
static inline int happens_before(struct hb *h, const struct hb_access *a, uint32_t t)
{
	if (!h->predict)
		return hb_ordered(h, a, t);
	struct vclock *p = wcp_clock(&h->wcp, t);
	return a->thread == t || (p && a->clock <= vclock_get(p, a->thread));
}

/* A hand-off that orders in every mode (start, join, queues, registries, publication). */
static void join_strong(struct hb *h, uint32_t t, const struct vclock *src)
{
	vclock_join(&h->threads[t].vc, src);
	if (h->predict)
		wcp_join_strong(&h->wcp, t, src);
}

/* The code object of the innermost frame of an event, NULL when it has none or it is unknown. */
static const struct code_entry *innermost_code(const struct hb *h, const struct trace_event *e)
{
	const struct stack_entry *s = e->nframes ? code_table_stack(h->code, e->stack) : NULL;
	return s && s->nframes ? code_table_get(h->code, h->code->frames[s->offset].code) : NULL;
}

/* Locks of the threading machinery (Condition, Event, Semaphore, Barrier, queue.Queue,
 * futures) guard state pyrace does not watch: their sections always order. */
static int machinery_acquire(const struct hb *h, const struct trace_event *e)
{
	static const char *const files[] = {"/threading.py", "/queue.py", "/concurrent/futures/",
					    "/multiprocessing/", "/asyncio/"};
	const struct code_entry *c = innermost_code(h, e);
	if (!c)
		return 1; /* no Python caller: a C-level user, treated as machinery */
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strstr(c->file, files[i]))
			return 1;
	return 0;
}

static uint32_t stored_clock(struct hb *h, struct vclock *src)
{
	if (grow_array((void **)&h->vcs, &h->vcs_cap, h->nvcs + 1, sizeof(*h->vcs),
		       &h->out_of_memory))
		return UINT32_MAX;
	struct vclock *v = &h->vcs[h->nvcs];
	memset(v, 0, sizeof(*v));
	vclock_copy(v, src);
	return (uint32_t)h->nvcs++;
}

/* ---- locks ---- */

/* Lock `l` is now known by the name of shadow `binding`. */
static void bind_lock(struct hb *h, struct hb_lock *l, int64_t binding)
{
	if (l->binding == binding)
		return;
	l->binding = binding;
	const struct hb_shadow *s = &h->shadows[l->binding];
	const struct hb_var *v = &h->vars[s->var];
	l->ignored = 0;
	if (v->kind == HB_VAR_MODULE && strcmp(v->module, "threading") == 0 && s->key_text)
		for (size_t i = 0; i < sizeof(runtime_locks) / sizeof(runtime_locks[0]); i++)
			l->ignored |= strcmp(s->key_text, runtime_locks[i]) == 0;
}

/* A lock takes the name it was stored under when first seen; a later store renames it then
 * (remember_binding), so that a lock operation needs no look-up of names. */
static struct hb_lock_memo *lock_memo(struct hb *h, uint64_t addr)
{
	return &h->lock_memo[(addr * 0x9e3779b97f4a7c15ull) >> 58]; /* 64 entries */
}

static struct hb_lock *lock_of(struct hb *h, uint64_t addr)
{
	struct hb_lock_memo *memo = lock_memo(h, addr);
	if (memo->lock && memo->addr == addr)
		return &h->locks[memo->lock - 1];
	int created;
	uint64_t *slot = u64map_put(&h->lock_by_addr, addr, 0, &created);
	if (!slot)
		return NULL;
	if (created) {
		if (grow_array((void **)&h->locks, &h->locks_cap, h->nlocks + 1, sizeof(*h->locks),
			       &h->out_of_memory)) {
			u64map_remove(&h->lock_by_addr, addr, 0);
			return NULL;
		}
		struct hb_lock *l = &h->locks[h->nlocks];
		memset(l, 0, sizeof(*l));
		l->addr = addr;
		l->binding = -1;
		l->created = UINT32_MAX;
		*slot = ++h->nlocks;
	}
	struct hb_lock *l = &h->locks[*slot - 1];
	memo->addr = addr;
	memo->lock = (uint32_t)*slot;
	if (created) {
		uint64_t *bound = u64map_get(&h->binding_by_obj, addr, 0);
		if (bound)
			bind_lock(h, l, (int64_t)(*bound - 1));
	}
	return l;
}

static uint32_t epoch_of(const struct hb *h, uint32_t t)
{
	return vclock_get(&h->threads[t].vc, t);
}

static void push_held(struct hb *h, uint32_t t, uint32_t lock, uint32_t stack)
{
	struct hb_thread *th = &h->threads[t];
	if (grow_array((void **)&th->held, &th->held_cap, th->nheld + 1, sizeof(*th->held),
		       &h->out_of_memory) ||
	    grow_array((void **)&th->held_stacks, &th->held_stacks_cap, th->nheld + 1,
		       sizeof(*th->held_stacks), &h->out_of_memory))
		return;
	th->held_stacks[th->nheld] = stack;
	th->held[th->nheld++] = lock;
	th->lockset_known = 0;
}

static int holds(const struct hb *h, uint32_t t, uint32_t lock)
{
	const struct hb_thread *th = &h->threads[t];
	for (size_t i = 0; i < th->nheld; i++)
		if (th->held[i] == lock)
			return 1;
	return 0;
}

static int pop_held(struct hb *h, uint32_t t, uint32_t lock)
{
	struct hb_thread *th = &h->threads[t];
	for (size_t i = th->nheld; i > 0; i--) {
		if (th->held[i - 1] == lock) {
			memmove(&th->held[i - 1], &th->held[i],
				(th->nheld - i) * sizeof(*th->held));
			memmove(&th->held_stacks[i - 1], &th->held_stacks[i],
				(th->nheld - i) * sizeof(*th->held_stacks));
			th->nheld--;
			th->lockset_known = 0;
			return 1;
		}
	}
	return 0;
}

/* A Lock may be released by a thread other than its holder (Condition waiters are): the holder
 * no longer holds it, and its next acquirer waited for the releaser. */
static void release_held(struct hb *h, uint32_t t, uint32_t lock)
{
	if (pop_held(h, t, lock))
		return;
	lockorder_signal(&h->order, t, epoch_of(h, t), lock);
	for (size_t other = 0; other < h->nthreads; other++)
		if (pop_held(h, (uint32_t)other, lock))
			return;
}

static void release_into(struct hb *h, uint32_t t, struct vclock *dst)
{
	vclock_copy(dst, &h->threads[t].vc);
	tick(h, t);
}

static uint32_t find_lockset(struct hb *h, uint32_t t);

/* The interned set of the locks `t` holds, found again only when that set changed. */
static uint32_t intern_lockset(struct hb *h, uint32_t t)
{
	struct hb_thread *th = &h->threads[t];
	if (!th->lockset_known) {
		th->lockset = find_lockset(h, t);
		th->lockset_known = 1;
	}
	return th->lockset;
}

static uint32_t find_lockset(struct hb *h, uint32_t t)
{
	const struct hb_thread *th = &h->threads[t];
	if (th->nheld == 0)
		return 0;
	uint64_t hash = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < th->nheld; i++)
		hash = (hash ^ th->held[i]) * 0x100000001b3ull;
	for (uint64_t salt = 0;; salt++) {
		int created;
		uint64_t *slot = u64map_put(&h->lockset_by_hash, hash, salt, &created);
		if (!slot)
			return 0;
		if (!created) {
			const uint32_t *items = &h->lockset_items[*slot - 1];
			if (items[0] == th->nheld &&
			    memcmp(items + 1, th->held, th->nheld * sizeof(*th->held)) == 0)
				return (uint32_t)*slot;
			continue;
		}
		size_t need = h->nlockset_items + 1 + th->nheld;
		if (grow_array((void **)&h->lockset_items, &h->lockset_items_cap, need,
			       sizeof(*h->lockset_items), &h->out_of_memory)) {
			u64map_remove(&h->lockset_by_hash, hash, salt);
			return 0;
		}
		uint32_t *items = &h->lockset_items[h->nlockset_items];
		items[0] = (uint32_t)th->nheld;
		memcpy(items + 1, th->held, th->nheld * sizeof(*th->held));
		*slot = h->nlockset_items + 1;
		h->nlockset_items = need;
		return (uint32_t)*slot;
	}
}

size_t hb_lockset(const struct hb *h, uint32_t lockset, const uint32_t **locks)
{
	if (lockset == 0) {
		*locks = NULL;
		return 0;
	}
	const uint32_t *items = &h->lockset_items[lockset - 1];
	*locks = items + 1;
	return items[0];
}

/* Qualified name of the innermost frame of an event, or "" when it has none. */
static const char *innermost_function(const struct hb *h, const struct trace_event *e)
{
	const struct code_entry *c = innermost_code(h, e);
	return c ? c->qualname : "";
}

/* Is the innermost frame of `e` threading's Thread._set_tstate_lock (which takes a thread's
 * sentinel lock)? Asked at every acquire: answered once per stack. */
static int sets_tstate_lock(struct hb *h, const struct trace_event *e)
{
	if (!e->nframes)
		return 0;
	if (h->tstate_lock_replaced != h->code->replaced) {
		/* a code object took another's address: what a stack's frames are has changed */
		if (h->tstate_lock)
			memset(h->tstate_lock, 0, h->tstate_lock_cap * sizeof(*h->tstate_lock));
		h->tstate_lock_replaced = h->code->replaced;
	}
	uint8_t *known = NULL;
	if (e->stack < h->tstate_lock_cap ||
	    !grow_array((void **)&h->tstate_lock, &h->tstate_lock_cap, (size_t)e->stack + 1,
			sizeof(*h->tstate_lock), NULL))
		known = &h->tstate_lock[e->stack];
	if (known && *known)
		return *known == 2;
	int yes = strcmp(innermost_function(h, e), "Thread._set_tstate_lock") == 0;
	if (known)
		*known = (uint8_t)(yes ? 2 : 1);
	return yes;
}

/* Forgets a lock, so that a new lock at the same address starts a history of its own. */
static void forget_lock(struct hb *h, uint64_t addr)
{
	uint64_t *slot = u64map_get(&h->lock_by_addr, addr, 0);
	if (!slot)
		return;
	uint32_t lock = (uint32_t)(*slot - 1);
	lockorder_lock_freed(&h->order, lock);
	for (size_t t = 0; t < h->nthreads; t++)
		while (pop_held(h, (uint32_t)t, lock))
			;
	u64map_remove(&h->lock_by_addr, addr, 0);
	u64map_remove(&h->binding_by_obj, addr, 0);
	lock_memo(h, addr)->lock = 0;
}

/* A lock died in thread t: forget it, so that a new lock at the same address starts a history
 * of its own. It may be (or belong to) the value of a weak-value registry entry dying in the
 * same thread, whose removal comes just before or just after (see on_registry_remove). */
static void lock_died(struct hb *h, uint32_t t, uint64_t addr)
{
	struct hb_thread *th = &h->threads[t];
	uint64_t *slot = u64map_get(&h->lock_by_addr, addr, 0);
	th->freed_lock = slot && !h->locks[*slot - 1].ignored ? (uint32_t)*slot : 0;
	if (th->freed_lock && th->removal_open) {
		uint64_t *entry =
		    u64map_get(&h->registry_clock, th->removal_registry, th->removal_key);
		if (entry && *entry)
			vclock_join(&h->vcs[*entry - 1], &h->locks[th->freed_lock - 1].vc);
	}
	forget_lock(h, addr);
}

/* The clock of one key of a weak-value registry; each lifetime of a registry dict is a registry
 * of its own, so a dict reborn at the same address shares nothing with the dead one. */
static uint64_t *registry_slot(struct hb *h, const struct trace_event *e, int create)
{
	uint64_t *reg = create ? u64map_put(&h->registry_by_dict, e->obj, 0, NULL)
			       : u64map_get(&h->registry_by_dict, e->obj, 0);
	if (!reg)
		return NULL;
	if (*reg == 0)
		*reg = ++h->next_registry;
	uint64_t a = (*reg << 8) | e->key_kind;
	return create ? u64map_put(&h->registry_clock, a, e->key_id, NULL)
		      : u64map_get(&h->registry_clock, a, e->key_id);
}

/* The first half of an entry's key in registry_clock (registry_slot made it). */
static uint64_t registry_key(struct hb *h, const struct trace_event *e)
{
	const uint64_t *reg = u64map_get(&h->registry_by_dict, e->obj, 0);
	return reg ? (*reg << 8) | e->key_kind : 0;
}

static void forget_dying_value(struct hb_thread *th)
{
	th->removal_open = 0;
	th->freed_lock = 0;
}

/* The value of a registry entry died (its last user let go of it), then the entry went: whoever
 * stores that key again found it gone, so comes after everything the last user did. */
static void on_registry_remove(struct hb *h, const struct trace_event *e, uint32_t t)
{
	struct hb_thread *th = &h->threads[t];
	uint64_t *slot = registry_slot(h, e, 1);
	if (!slot)
		return;
	th->removal_open = 1;
	th->removal_registry = registry_key(h, e);
	th->removal_key = e->key_id;
	if (*slot) {
		vclock_join(&h->vcs[*slot - 1], &th->vc);
	} else {
		uint32_t idx = stored_clock(h, &th->vc);
		if (idx == UINT32_MAX)
			return;
		*slot = idx + 1; /* stored_clock leaves the maps alone: the slot is still valid */
	}
	/* a lock that died just before is the value itself (its weak references are cleared as
	 * it is freed) */
	if (th->freed_lock)
		vclock_join(&h->vcs[*slot - 1], &h->locks[th->freed_lock - 1].vc);
	tick(h, t);
}

static void on_registry_insert(struct hb *h, const struct trace_event *e, uint32_t t)
{
	uint64_t *slot = registry_slot(h, e, 0);
	if (slot && *slot)
		join_strong(h, t, &h->vcs[*slot - 1]);
}

/* Bit 47 is above every user-space address and below the process tag: a ThreadHandle (raw
 * malloc) is kept apart from a Lock object that might later live at its address. */
#define HB_HANDLE_TAG (1ULL << 47)

/* 3.13+: a thread ends by leaving its ThreadHandle, and a join that saw it end acquires that
 * handle. Modelled as 3.11's sentinel lock, released once by the ending thread. */
static void on_thread_handle(struct hb *h, const struct trace_event *e, uint32_t t)
{
	struct hb_lock *l = lock_of(h, e->obj | HB_HANDLE_TAG);
	if (!l)
		return;
	uint32_t lock = (uint32_t)(l - h->locks);
	l->sentinel = 1;
	if (e->op == PYSYNC_THREAD_END) {
		lockorder_signal(&h->order, t, epoch_of(h, t), lock);
		note_sync(h, t, e, HB_SYNC_EXIT, lock);
		l->owner = t + 1;
		release_into(h, t, &l->vc);
		return;
	}
	join_strong(h, t, &l->vc);
	note_sync(h, t, e, HB_SYNC_JOIN, lock);
	lockorder_acquire(&h->order, t, epoch_of(h, t), lock, 0, NULL, NULL, 0, 0);
}

static void on_sync(struct hb *h, const struct trace_event *e, uint32_t t)
{
	struct hb_thread *th = &h->threads[t];
	switch (e->op) {
	case PYSYNC_ACQUIRE: {
		struct hb_lock *l = lock_of(h, e->obj);
		if (!l || l->ignored)
			return;
		vclock_join(&h->threads[t].vc, &l->vc);
		uint32_t lock = (uint32_t)(l - h->locks);
		int detected = !l->sentinel && sets_tstate_lock(h, e);
		if (detected)
			l->sentinel = 1;
		if (h->predict) {
			if (l->sentinel || wcp_lock_strong(&h->wcp, lock, machinery_acquire(h, e)))
				wcp_join_strong(&h->wcp, t, &l->vc);
			else
				wcp_acquire(&h->wcp, t, &th->vc, lock);
		}
		if (detected) {
			l->owner = t + 1;
			lockorder_acquire(&h->order, t, epoch_of(h, t), lock, 0, NULL, NULL, 0, 0);
			return;
		}
		if (l->sentinel) {
			note_sync(h, t, e, HB_SYNC_JOIN, lock);
			lockorder_acquire(&h->order, t, epoch_of(h, t), lock, 0, NULL, NULL, 0, 0);
			return;
		}
		note_sync(h, t, e, HB_SYNC_ACQUIRE, lock);
		uint32_t stack = e->stack;
		lockorder_acquire(&h->order, t, epoch_of(h, t), lock, stack, th->held,
				  th->held_stacks, th->nheld, intern_lockset(h, t));
		push_held(h, t, lock, stack);
		return;
	}
	case PYSYNC_LOCK_CREATED: {
		/* a new lock: whatever was known at its address is another lock's */
		forget_lock(h, e->obj);
		struct hb_lock *l = lock_of(h, e->obj);
		if (l && e->nframes)
			l->created = e->stack;
		return;
	}
	case PYSYNC_LOCK_FREED:
		lock_died(h, t, e->obj);
		return;
	case PYSYNC_RELEASE:
	case PYSYNC_THREAD_EXIT: {
		struct hb_lock *l = lock_of(h, e->obj);
		if (!l || l->ignored)
			return;
		uint32_t lock = (uint32_t)(l - h->locks);
		if (h->predict && e->op == PYSYNC_RELEASE && !l->sentinel) {
			if (!holds(h, t, lock))
				wcp_lock_handoff(&h->wcp, lock);
			else if (!wcp_lock_strong(&h->wcp, lock, 1))
				wcp_release(&h->wcp, t, &th->vc, lock);
		}
		if (e->op == PYSYNC_RELEASE)
			release_held(h, t, lock);
		else
			lockorder_signal(&h->order, t, epoch_of(h, t), lock);
		/* a joiner lets go of the sentinel it acquired: nothing to show */
		if (e->op == PYSYNC_THREAD_EXIT || !l->sentinel)
			note_sync(h, t, e, e->op == PYSYNC_RELEASE ? HB_SYNC_RELEASE : HB_SYNC_EXIT,
				  lock);
		if (e->op == PYSYNC_THREAD_EXIT && !l->owner)
			l->owner = t + 1;
		release_into(h, t, &l->vc);
		return;
	}
	case PYSYNC_THREAD_END:
	case PYSYNC_THREAD_JOIN:
		on_thread_handle(h, e, t);
		return;
	case PYSYNC_THREAD_SPAWN: {
		uint32_t idx = stored_clock(h, &th->vc);
		uint64_t *slot =
		    idx == UINT32_MAX ? NULL : u64map_put(&h->spawn_clock, e->obj, 0, NULL);
		if (slot)
			*slot = idx + 1;
		note_sync(h, t, e, HB_SYNC_SPAWN, e->obj);
		lockorder_spawn(&h->order, t, epoch_of(h, t), e->obj);
		{
			/* where the thread was started, for the report */
			uint32_t stack = e->nframes ? e->stack : UINT32_MAX;
			uint64_t *site = u64map_put(&h->spawn_site, e->obj, 0, NULL);
			if (site)
				*site = ((uint64_t)(t + 1) << 32) |
					(stack == UINT32_MAX ? 0 : (uint64_t)stack + 1);
		}
		tick(h, t);
		return;
	}
	case PYSYNC_QUEUE_PUT: {
		uint64_t *slot = u64map_get(&h->channel_clock, e->obj, e->aux);
		uint64_t *pending = u64map_put(&h->channel_pending, e->obj, e->aux, NULL);
		if (pending)
			(*pending)++;
		note_sync(h, t, e, HB_SYNC_PUT, e->obj);
		if (slot) {
			vclock_join(&h->vcs[*slot - 1], &th->vc);
		} else {
			uint32_t idx = stored_clock(h, &th->vc);
			slot = idx == UINT32_MAX
				   ? NULL
				   : u64map_put(&h->channel_clock, e->obj, e->aux, NULL);
			if (slot)
				*slot = idx + 1;
		}
		lockorder_put(&h->order, t, epoch_of(h, t), e->obj, e->aux);
		tick(h, t);
		return;
	}
	case PYSYNC_QUEUE_GET: {
		uint64_t *slot = u64map_get(&h->channel_clock, e->obj, e->aux);
		if (!slot)
			return;
		note_sync(h, t, e, HB_SYNC_GET, e->obj);
		join_strong(h, t, &h->vcs[*slot - 1]);
		lockorder_get(&h->order, t, e->obj, e->aux);
		/* the same object may wait in the queue several times: keep its clock until the
		 * last of those puts has been taken */
		uint64_t *pending = u64map_get(&h->channel_pending, e->obj, e->aux);
		if (pending && *pending > 1) {
			(*pending)--;
			return;
		}
		vclock_free(&h->vcs[*slot - 1]);
		u64map_remove(&h->channel_clock, e->obj, e->aux);
		u64map_remove(&h->channel_pending, e->obj, e->aux);
		lockorder_channel_done(&h->order, e->obj, e->aux);
		return;
	}
	case PYSYNC_REGISTRY_REMOVE:
		note_sync(h, t, e, HB_SYNC_REGISTRY_REMOVE, e->obj);
		on_registry_remove(h, e, t);
		return;
	case PYSYNC_REGISTRY_INSERT:
		note_sync(h, t, e, HB_SYNC_REGISTRY_INSERT, e->obj);
		on_registry_insert(h, e, t);
		return;
	default:
		return;
	}
}

/* A new thread starts with everything its parent did before starting it. */
static void on_thread_begin(struct hb *h, const struct trace_event *e)
{
	uint32_t t = new_thread(h, e);
	if (t == UINT32_MAX)
		return;
	h->threads[t].boot = e->obj;
	h->threads[t].begin_seq = h->events;
	uint64_t *site = u64map_get(&h->spawn_site, e->obj, 0);
	if (site) {
		h->threads[t].parent = (uint32_t)(*site >> 32);
		h->threads[t].spawn_stack = (uint32_t)(*site & 0xffffffffu) - 1;
		u64map_remove(&h->spawn_site, e->obj, 0);
	}
	note_sync(h, t, e, HB_SYNC_BEGIN, e->obj);
	lockorder_begin(&h->order, t, e->obj);
	uint64_t *slot = u64map_get(&h->spawn_clock, e->obj, 0);
	if (slot) {
		join_strong(h, t, &h->vcs[*slot - 1]);
		vclock_free(&h->vcs[*slot - 1]);
		u64map_remove(&h->spawn_clock, e->obj, 0);
	}
}

/* ---- watched dicts ---- */

static struct hb_var_memo *var_memo(struct hb *h, uint64_t addr)
{
	return &h->var_memo[(addr * 0x9e3779b97f4a7c15ull) >> 56]; /* 256 entries */
}

static struct hb_var *var_of(struct hb *h, uint64_t addr)
{
	struct hb_var_memo *memo = var_memo(h, addr);
	if (memo->var && memo->addr == addr)
		return &h->vars[memo->var - 1];
	uint64_t *slot = u64map_get(&h->var_by_addr, addr, 0);
	if (!slot || !*slot)
		return NULL;
	*memo = (struct hb_var_memo){.addr = addr, .var = (uint32_t)*slot};
	return &h->vars[*slot - 1];
}

static char *nested_name(const char *parent, const struct trace_event *e)
{
	char *key = text_of(e);
	char *out = NULL;
	int n = -1;
	if (e->key_kind == PYKEY_STR)
		n = asprintf(&out, "%s['%s']", parent ? parent : "?", key ? key : "");
	else if (e->key_kind == PYKEY_INT)
		n = asprintf(&out, "%s[%" PRId64 "]", parent ? parent : "?", (int64_t)e->key_id);
	else
		n = asprintf(&out, "%s[<%s>#%016" PRIx64 "]", parent ? parent : "?",
			     key && *key ? key : "object", (uint64_t)e->key_id);
	free(key);
	return n < 0 ? NULL : out;
}

static void on_watch(struct hb *h, const struct trace_event *e)
{
	if (grow_array((void **)&h->vars, &h->vars_cap, h->nvars + 1, sizeof(*h->vars),
		       &h->out_of_memory))
		return;
	struct hb_var v = {.addr = e->obj};
	if (e->op == PYWATCH_MODULE) {
		v.kind = HB_VAR_MODULE;
		v.module = text_of(e);
		v.ignored = v.module && is_runtime_module(v.module);
	} else if (e->op == PYWATCH_NESTED) {
		const struct hb_var *parent = var_of(h, e->aux);
		if (!parent || parent->kind != HB_VAR_GLOBAL_DICT)
			return;
		/* named by the path to it: CACHE['a'], and its keys CACHE['a']['b'] */
		v.kind = HB_VAR_GLOBAL_DICT;
		v.module = strdup(parent->module);
		v.name = nested_name(parent->name, e);
		v.ignored = parent->ignored;
		h->watched_dicts++;
	} else if (e->op == PYWATCH_GLOBAL_LIST || e->op == PYWATCH_GLOBAL_SET) {
		const struct hb_var *module = var_of(h, e->aux);
		if (!module)
			return;
		v.kind = e->op == PYWATCH_GLOBAL_LIST ? HB_VAR_GLOBAL_LIST : HB_VAR_GLOBAL_SET;
		v.module = strdup(module->module ? module->module : "?");
		v.name = text_of(e);
		v.ignored = module->ignored;
	} else {
		const struct hb_var *module = var_of(h, e->aux);
		if (!module)
			return;
		v.kind = HB_VAR_GLOBAL_DICT;
		v.module = strdup(module->module ? module->module : "?");
		v.name = text_of(e);
		v.publication =
		    v.name && strcmp(v.module, "sys") == 0 && strcmp(v.name, "modules") == 0;
		v.ignored = module->ignored && !v.publication;
		h->watched_dicts++;
	}
	uint64_t *slot = u64map_put(&h->var_by_addr, e->obj, 0, NULL);
	if (!slot || !v.module) {
		free(v.module);
		free(v.name);
		return;
	}
	h->vars[h->nvars] = v;
	*slot = ++h->nvars;
	var_memo(h, e->obj)->var = 0;
}

static void on_unwatch(struct hb *h, const struct trace_event *e)
{
	u64map_remove(&h->var_by_addr, e->obj, 0);
	var_memo(h, e->obj)->var = 0;
	u64map_remove(&h->registry_by_dict, e->obj, 0);
}

static uint32_t shadow_of(struct hb *h, uint32_t var, const struct trace_event *e)
{
	uint64_t a = ((uint64_t)var << 8) | e->key_kind;
	int created;
	uint64_t *slot = u64map_put(&h->shadow_by_key, a, e->key_id, &created);
	if (!slot)
		return UINT32_MAX;
	if (!created)
		return (uint32_t)(*slot - 1);
	struct hb_var *v = &h->vars[var];
	if (grow_array((void **)&h->shadows, &h->shadows_cap, h->nshadows + 1, sizeof(*h->shadows),
		       &h->out_of_memory) ||
	    grow_array((void **)&v->shadows, &v->shadows_cap, v->nshadows + 1, sizeof(*v->shadows),
		       &h->out_of_memory)) {
		u64map_remove(&h->shadow_by_key, a, e->key_id);
		return UINT32_MAX;
	}
	struct hb_shadow *s = &h->shadows[h->nshadows];
	memset(s, 0, sizeof(*s));
	s->var = var;
	s->key_kind = e->key_kind;
	s->key_id = e->key_id;
	s->key_text = text_of(e);
	v->shadows[v->nshadows++] = (uint32_t)h->nshadows;
	*slot = ++h->nshadows;
	return (uint32_t)(h->nshadows - 1);
}

int hb_op_is_write(uint8_t op)
{
	/* setdefault only reads when the key is there; when it is not, the interpreter inserts
	 * it through insertdict, which is recorded as the write */
	return op != PYOP_READ && op != PYOP_ITERATE && op != PYOP_SETDEFAULT;
}

static int is_write(uint8_t op)
{
	return hb_op_is_write(op);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ull;
	return h;
}

/* Hash of the innermost source location of a stack: (file, line), not the code address. */
static uint64_t location_hash(const struct hb *h, uint32_t stack)
{
	const struct stack_entry *s = code_table_stack(h->code, stack);
	if (!s || s->nframes == 0)
		return 0;
	const struct pyrace_frame *f = &h->code->frames[s->offset];
	const struct code_entry *c = code_table_get(h->code, f->code);
	if (!c)
		return fnv(0xcbf29ce484222325ull, &f->code, sizeof(f->code));
	int line = code_entry_line(c, f->instr);
	uint64_t x = fnv(0xcbf29ce484222325ull, c->file, strlen(c->file));
	return fnv(x, &line, sizeof(line));
}

static int is_whole_dict(uint8_t op)
{
	return op == PYOP_CLEAR || op == PYOP_UPDATE || op == PYOP_POPITEM || op == PYOP_ITERATE;
}

static void add_race(struct hb *h, uint32_t var, uint32_t shadow, const struct hb_access *cur,
		     const struct hb_access *prev)
{
	const struct hb_var *v = &h->vars[var];
	uint64_t x = fnv(0xcbf29ce484222325ull, v->module, strlen(v->module));
	if (v->name)
		x = fnv(x, v->name, strlen(v->name));
	/* a whole-dict operation conflicts with every key alike: one report per pair of
	 * locations, named after the first key, counting the others as occurrences */
	uint8_t keyed = shadow != UINT32_MAX;
	x = fnv(x, &keyed, 1);
	if (keyed && !is_whole_dict(cur->op) && !is_whole_dict(prev->op)) {
		const struct hb_shadow *s = &h->shadows[shadow];
		x = fnv(x, &s->key_kind, 1);
		x = fnv(x, &s->key_id, sizeof(s->key_id));
	}
	/* the same race in two workers running the same code is reported for each of them */
	uint16_t process = h->threads[cur->thread].process;
	x = fnv(x, &process, sizeof(process));
	uint64_t l1 = location_hash(h, cur->stack), l2 = location_hash(h, prev->stack);
	uint64_t lo = l1 < l2 ? l1 : l2, hi = l1 < l2 ? l2 : l1;
	x = fnv(x, &lo, sizeof(lo));
	x = fnv(x, &hi, sizeof(hi));
	int created;
	uint64_t *slot = u64map_put(&h->race_by_hash, x, 0, &created);
	if (!slot)
		return;
	if (!created) {
		h->races[*slot - 1].occurrences++;
		return;
	}
	if (grow_array((void **)&h->races, &h->races_cap, h->nraces + 1, sizeof(*h->races),
		       &h->out_of_memory)) {
		u64map_remove(&h->race_by_hash, x, 0);
		return;
	}
	h->races[h->nraces] =
	    (struct hb_race){.var = var,
			     .shadow = shadow,
			     .process = process,
			     .current = *cur,
			     .previous = *prev,
			     .occurrences = 1,
			     .dedup_hash = x,
			     .predicted = h->predict && hb_ordered(h, prev, cur->thread),
			     .current_sync = history_of(h, cur->thread),
			     .previous_sync = history_of(h, prev->thread)};
	*slot = ++h->nraces;
}

/* Checks `a` against everything remembered for one key; returns nothing, records races. */
static void check_shadow(struct hb *h, uint32_t si, const struct hb_access *a)
{
	struct hb_shadow *s = &h->shadows[si];
	if (s->has_write && !happens_before(h, &s->write, a->thread))
		add_race(h, s->var, si, a, &s->write);
	if (!is_write(a->op))
		return;
	for (size_t i = 0; i < s->nreads; i++) {
		s = &h->shadows[si];
		if (!happens_before(h, &s->reads[i], a->thread))
			add_race(h, s->var, si, a, &s->reads[i]);
	}
}

static void remember(struct hb *h, uint32_t si, const struct hb_access *a)
{
	struct hb_shadow *s = &h->shadows[si];
	if (is_write(a->op)) {
		s->write = *a;
		s->has_write = 1;
		s->nreads = 0;
		return;
	}
	for (size_t i = 0; i < s->nreads; i++) {
		if (s->reads[i].thread == a->thread) {
			s->reads[i] = *a;
			return;
		}
	}
	/* one read per thread at most, and few threads read a key between two writes */
	if (grow_array_from((void **)&s->reads, &s->reads_cap, s->nreads + 1, sizeof(*s->reads), 4,
			    &h->out_of_memory))
		return;
	s->reads[s->nreads++] = *a;
}

/* Remembers a whole-dict read, replacing the thread's previous one. */
static void remember_whole_read(struct hb *h, struct hb_var *v, const struct hb_access *a)
{
	for (size_t i = 0; i < v->nwhole_reads; i++) {
		if (v->whole_reads[i].thread == a->thread) {
			v->whole_reads[i] = *a;
			return;
		}
	}
	if (grow_array((void **)&v->whole_reads, &v->whole_reads_cap, v->nwhole_reads + 1,
		       sizeof(*v->whole_reads), &h->out_of_memory))
		return;
	v->whole_reads[v->nwhole_reads++] = *a;
}

/* A write (of one key or of all) against the iterations not ordered before it. */
static void check_whole_reads(struct hb *h, uint32_t var, uint32_t shadow,
			      const struct hb_access *a)
{
	for (size_t i = 0; i < h->vars[var].nwhole_reads; i++)
		if (!happens_before(h, &h->vars[var].whole_reads[i], a->thread))
			add_race(h, var, shadow, a, &h->vars[var].whole_reads[i]);
}

/* The object stored by a write is now known by that variable's name. */
static void remember_binding(struct hb *h, uint32_t var, const struct trace_event *e)
{
	uint32_t si = shadow_of(h, var, e);
	uint64_t *slot = si == UINT32_MAX ? NULL : u64map_put(&h->binding_by_obj, e->aux, 0, NULL);
	if (!slot)
		return;
	*slot = si + 1;
	uint64_t *lock = u64map_get(&h->lock_by_addr, e->aux, 0);
	if (lock)
		bind_lock(h, &h->locks[*lock - 1], si);
}

static void note_name_stack(struct hb *h, uint32_t t, uint32_t stack)
{
	struct hb_thread *th = &h->threads[t];
	if (th->has_name_stack)
		return;
	const struct stack_entry *s = code_table_stack(h->code, stack);
	for (size_t i = 0; s && i < s->nframes; i++) {
		const struct code_entry *c =
		    code_table_get(h->code, h->code->frames[s->offset + i].code);
		size_t n = c ? strlen(c->file) : 0;
		if (c && !(n >= 12 && strcmp(c->file + n - 12, "threading.py") == 0)) {
			th->name_stack = stack;
			th->has_name_stack = 1;
			return;
		}
	}
}

static int is_test_function(const struct code_entry *c)
{
	const char *base = strrchr(c->file, '/');
	base = base ? base + 1 : c->file;
	size_t n = strlen(base);
	if (strncmp(base, "test_", 5) != 0 && !(n > 8 && strcmp(base + n - 8, "_test.py") == 0))
		return 0;
	const char *name = strrchr(c->qualname, '.');
	name = name ? name + 1 : c->qualname;
	return strncmp(name, "test", 4) == 0;
}

int hb_test_frame(struct hb *h, uint32_t stack)
{
	uint8_t *slot = NULL;
	if (stack < h->test_frame_cap ||
	    !grow_array((void **)&h->test_frame, &h->test_frame_cap, (size_t)stack + 1,
			sizeof(*h->test_frame), NULL))
		slot = &h->test_frame[stack];
	if (slot && *slot)
		return (int)*slot - 2;
	int found = -1;
	const struct stack_entry *s = code_table_stack(h->code, stack);
	for (size_t i = 0; s && i < s->nframes && found < 0; i++) {
		const struct code_entry *c =
		    code_table_get(h->code, h->code->frames[s->offset + i].code);
		if (c && is_test_function(c))
			found = (int)i;
	}
	if (slot)
		*slot = (uint8_t)(found + 2);
	return found;
}

/* Tests run one after another on the main thread: what it last did inside a test says which
 * test the other threads' accesses happen during. */
static void note_main_test(struct hb *h, uint32_t t, uint32_t stack)
{
	if (h->threads[t].tid == h->threads[t].pid && hb_test_frame(h, stack) >= 0)
		h->main_test_stack = stack;
}

static uint32_t test_of_access(struct hb *h, uint32_t stack)
{
	return hb_test_frame(h, stack) >= 0 ? stack : h->main_test_stack;
}

static void on_access(struct hb *h, const struct trace_event *e, uint32_t t)
{
	struct hb_var *v = var_of(h, e->obj);
	if (!v)
		return;
	uint32_t var = (uint32_t)(v - h->vars);
	if (v->ignored) {
		/* not reported, but its names matter: threading's own locks are recognised by them
		 */
		if (e->op == PYOP_WRITE && e->aux)
			remember_binding(h, var, e);
		return;
	}
	uint32_t stack = e->stack;
	note_name_stack(h, t, stack);
	note_main_test(h, t, stack);
	struct hb_access a = {.thread = t,
			      .test = test_of_access(h, stack),
			      .clock = vclock_get(&h->threads[t].vc, t),
			      .stack = stack,
			      .lockset = intern_lockset(h, t),
			      .op = e->op,
			      .seq = h->events,
			      .ts_ns = e->ts_ns};
	/* under --predict, critical sections order by the variables they share (rule (a) of WCP,
	 * at the grain of a whole dict or module) */
	if (h->predict && !v->publication)
		wcp_access(&h->wcp, t, var, is_write(e->op));
	if (is_whole_dict(e->op)) {
		if (v->publication)
			return;
		if (v->has_whole && !happens_before(h, &v->whole, t))
			add_race(h, var, UINT32_MAX, &a, &v->whole);
		if (is_write(a.op))
			check_whole_reads(h, var, UINT32_MAX, &a);
		for (size_t i = 0; i < h->vars[var].nshadows; i++)
			check_shadow(h, h->vars[var].shadows[i], &a);
		v = &h->vars[var];
		if (is_write(a.op)) {
			v->whole = a;
			v->has_whole = 1;
			v->nwhole_reads = 0;
		} else {
			remember_whole_read(h, v, &a);
		}
		return;
	}
	struct trace_event element;
	if (v->kind == HB_VAR_GLOBAL_SET && e->key_kind == PYKEY_STR) {
		/* set.add and `in` are probed before the set hashes the element, and a str made
		 * just before (f"user-{n}") has no hash yet: an element is known by its text */
		element = *e;
		element.key_id = fnv(0xcbf29ce484222325ull, e->key, e->key_len);
		e = &element;
	}
	uint32_t si = shadow_of(h, var, e);
	if (si == UINT32_MAX)
		return;
	v = &h->vars[var];
	if (v->publication) {
		/* sys.modules: the import system's own locks publish a module to later importers */
		struct hb_shadow *s = &h->shadows[si];
		if (is_write(e->op)) {
			vclock_join(&s->publication, &h->threads[t].vc);
			tick(h, t);
		} else {
			join_strong(h, t, &s->publication);
		}
		return;
	}
	check_shadow(h, si, &a);
	if (v->has_whole && !happens_before(h, &v->whole, t))
		add_race(h, var, si, &a, &v->whole);
	if (is_write(a.op))
		check_whole_reads(h, var, si, &a);
	remember(h, si, &a);
	if (e->op == PYOP_WRITE && e->aux)
		remember_binding(h, var, e);
}

void hb_event(struct hb *h, const struct pyrace_event *e)
{
	uint32_t stack = code_table_intern_stack(h->code, e->frames, e->nframes, e->truncated);
	if (stack == UINT32_MAX) {
		h->out_of_memory = 1;
		return;
	}
	struct trace_event in;
	trace_event_from_v1(e, stack, &in);
	hb_feed(h, &in);
}

void hb_prefetch(struct hb *h, struct trace_event *e, int stage)
{
	if (e->type != PYEV_ACCESS)
		return;
	if (stage == 0) {
		const struct hb_var *v = var_of(h, e->obj);
		uint64_t var = v ? (uint64_t)(v - h->vars) : 0;
		if (v)
			u64map_prefetch(&h->shadow_by_key, (var << 8) | e->key_kind, e->key_id);
		e->prefetched = v ? (uint32_t)var + 1 : 0; /* the variable's index + 1 */
		return;
	}
	if (stage == 1) {
		uint64_t var = e->prefetched;
		uint64_t *si =
		    var ? u64map_get(&h->shadow_by_key, ((var - 1) << 8) | e->key_kind, e->key_id)
			: NULL;
		e->prefetched = si ? (uint32_t)*si : 0; /* the shadow's index + 1 */
		if (si) {
			const struct hb_shadow *s = &h->shadows[*si - 1];
			__builtin_prefetch(s);
			__builtin_prefetch((const char *)s + 64);
		}
		return;
	}
	/* a hint may be stale (the event's variable or key changed meanwhile): only in range */
	if (e->prefetched && e->prefetched <= h->nshadows) {
		const struct hb_shadow *s = &h->shadows[e->prefetched - 1];
		if (s->reads) {
			__builtin_prefetch(s->reads);
			__builtin_prefetch((const char *)s->reads + 64);
		}
	}
}

void hb_feed(struct hb *h, const struct trace_event *e)
{
	h->events++;
	if (e->truncated)
		h->truncated_stacks++;
	switch (e->type) {
	case PYEV_WATCH:
		on_watch(h, e);
		return;
	case PYEV_UNWATCH:
		on_unwatch(h, e);
		return;
	case PYEV_SYNC:
		if (e->op == PYSYNC_THREAD_BEGIN) {
			on_thread_begin(h, e);
			return;
		}
		{
			uint32_t t = thread_of(h, e);
			if (t == UINT32_MAX)
				return;
			/* a value dying: its registry removal and its locks' frees come together */
			if (e->op != PYSYNC_LOCK_FREED && e->op != PYSYNC_REGISTRY_REMOVE)
				forget_dying_value(&h->threads[t]);
			if (e->nframes && e->tid == h->threads[t].pid)
				note_main_test(h, t, e->stack);
			on_sync(h, e, t);
		}
		return;
	case PYEV_ACCESS: {
		uint32_t t = thread_of(h, e);
		if (t != UINT32_MAX)
			forget_dying_value(&h->threads[t]);
		/* the finalizer clears every module's globals with no Python frame running: that is
		 * the interpreter's teardown, not the program racing with its daemon threads */
		if (t != UINT32_MAX && !(h->threads[t].finalizing && e->nframes == 0))
			on_access(h, e, t);
		return;
	}
	case PYEV_FINALIZE: {
		uint32_t t = thread_of(h, e);
		if (t != UINT32_MAX)
			h->threads[t].finalizing = 1;
		return;
	}
	default:
		return;
	}
}
