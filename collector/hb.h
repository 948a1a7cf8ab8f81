/* Happens-before race detection over trace events: vector clocks, FastTrack-style epochs. */
#ifndef PYRACE_HB_H
#define PYRACE_HB_H

#include <stddef.h>
#include <stdint.h>

#include "code_table.h"
#include "wcp.h"
#include "events.h"
#include "lockorder.h"
#include "trace_codec.h"
#include "u64map.h"
#include "vclock.h"

/* One access as remembered in a shadow and in a race. */
struct hb_access {
	uint32_t thread;  /* index into hb.threads */
	uint32_t clock;	  /* the thread's own clock at the access (its epoch) */
	uint32_t stack;	  /* interned stack id */
	uint32_t lockset; /* interned set of held locks */
	uint32_t test;	  /* stack holding the test it ran in (own or the main thread's), or
			     UINT32_MAX */
	uint8_t op;	  /* enum pyrace_access_op */
	uint64_t seq;	  /* position of its event in the trace, from 1 */
	uint64_t ts_ns;	  /* the kernel's monotonic clock at the event */
};

/* What a thread did to synchronise, kept so that a report can show what orders a pair of
 * accesses, or fails to. */
enum hb_sync_kind {
	HB_SYNC_ACQUIRE = 1,	 /* obj: lock index */
	HB_SYNC_RELEASE,	 /* obj: lock index */
	HB_SYNC_SPAWN,		 /* obj: boot pointer of the thread started */
	HB_SYNC_BEGIN,		 /* obj: boot pointer; the thread's first event */
	HB_SYNC_JOIN,		 /* obj: lock index of the joined thread's sentinel */
	HB_SYNC_EXIT,		 /* obj: lock index of the thread's own sentinel */
	HB_SYNC_PUT,		 /* obj: queue address */
	HB_SYNC_GET,		 /* obj: queue address */
	HB_SYNC_REGISTRY_REMOVE, /* obj: registry dict address */
	HB_SYNC_REGISTRY_INSERT, /* obj: registry dict address */
};

struct hb_sync {
	uint64_t seq, ts_ns;
	uint64_t obj;
	uint8_t kind; /* enum hb_sync_kind */
};

/* Sync events remembered per thread; a race keeps a copy of both threads' at detection. Enough
 * for the few lock operations around an access, and small enough to copy into every race. */
#define HB_SYNC_HISTORY 8

/* A thread's last sync events, oldest first, and how many it had in all. */
struct hb_sync_history {
	struct hb_sync items[HB_SYNC_HISTORY];
	uint8_t n;
	uint64_t total;
};

/* The same as a thread keeps it: item i of all is at i % HB_SYNC_HISTORY, no shifting. */
struct hb_sync_ring {
	struct hb_sync items[HB_SYNC_HISTORY];
	uint64_t total;
};

struct hb_thread {
	uint32_t tid;
	uint32_t pid;	  /* of its process */
	uint16_t process; /* number of its address space in the trace (TREC_PROCESS), 0 if none */
	uint32_t ordinal; /* 0 for the main thread, then in order of start within its process */
	struct vclock vc;
	uint32_t *held; /* lock indices, in acquisition order, repeated for recursion */
	size_t nheld, held_cap;
	uint32_t *held_stacks; /* where each of held[] was acquired */
	size_t held_stacks_cap;
	uint32_t name_stack; /* first stack with a frame outside the threading machinery */
	int has_name_stack;
	uint64_t boot;	      /* boot pointer it began with, 0 for the main thread */
	uint32_t parent;      /* thread that started it + 1, 0 unknown (main thread, attach) */
	int finalizing;	      /* it runs Py_FinalizeEx: its dict writes are module teardown */
	uint32_t spawn_stack; /* where its parent started it, UINT32_MAX unknown */
	uint64_t begin_seq;   /* position of its first event */
	/* A value of a weak-value registry dying in this thread: the entry it removed
	 * ((registry << 8 | key kind), key id; valid while removal_open) and the lock it freed
	 * (index + 1, 0 none), kept until any other event of the thread. */
	uint64_t removal_registry, removal_key;
	int removal_open;
	uint32_t freed_lock;
	struct hb_sync_ring recent;
	uint32_t lockset; /* interned set of held[], valid while lockset_known */
	int lockset_known;
};

/* A var_by_addr look-up kept: accesses to the same few dicts find them without the map. */
struct hb_var_memo {
	uint64_t addr;
	uint32_t var; /* index + 1, 0: empty */
};

/* A lock_by_addr look-up kept: a release finds the lock its acquire found. */
struct hb_lock_memo {
	uint64_t addr;
	uint32_t lock; /* index + 1, 0: empty */
};

struct hb_lock {
	uint64_t addr;
	struct vclock vc;
	int64_t binding;  /* shadow the lock was last stored in (module.NAME), -1 when none */
	int ignored;	  /* the interpreter's own bookkeeping lock: not synchronisation */
	int sentinel;	  /* a thread's _tstate_lock: held for its whole life, never "held" data */
	uint32_t owner;	  /* for a sentinel: index of the thread it belongs to + 1, 0 unknown */
	uint32_t created; /* stack that made it, UINT32_MAX unknown (made before tracing) */
};

enum hb_var_kind {
	HB_VAR_MODULE = 1,  /* a module __dict__: keys are the module's globals */
	HB_VAR_GLOBAL_DICT, /* a dict bound to a module global */
	HB_VAR_GLOBAL_LIST, /* a list bound to a module global: one variable, no keys */
	HB_VAR_GLOBAL_SET,  /* a set bound to a module global: its elements are the keys */
};

/* One incarnation of a watched dict (addresses are reused, incarnations never). */
struct hb_var {
	uint64_t addr;
	enum hb_var_kind kind;
	char *module;	 /* __name__ of the module (for a global dict: of the module owning it) */
	char *name;	 /* the global's name, for HB_VAR_GLOBAL_DICT */
	int ignored;	 /* runtime bookkeeping: never reported */
	int publication; /* sys.modules: a write publishes, a read acquires */
	struct hb_access whole; /* last whole-dict write (clear, update, popitem) */
	int has_whole;
	struct hb_access *whole_reads; /* iterations and copies, at most one per thread */
	size_t nwhole_reads, whole_reads_cap;
	uint32_t *shadows; /* shadow indices of this dict's keys */
	size_t nshadows, shadows_cap;
};

struct hb_shadow {
	uint32_t var;
	uint8_t key_kind;
	uint64_t key_id;
	char *key_text;
	struct hb_access write;
	int has_write;
	struct hb_access *reads; /* at most one per thread */
	size_t nreads, reads_cap;
	struct vclock publication; /* for publication vars */
};

struct hb_race {
	uint32_t var;
	uint32_t shadow;  /* UINT32_MAX: a whole-dict race */
	uint16_t process; /* both accesses are of one process: processes share no memory */
	struct hb_access current, previous;
	uint64_t occurrences;
	uint64_t dedup_hash;
	int predicted; /* --predict: happens-before orders the pair in this run */
	/* both threads' sync history when the race was first seen (at the current access) */
	struct hb_sync_history current_sync, previous_sync;
};

struct hb {
	struct code_table *code;
	uint32_t main_pid;
	struct hb_thread *threads;
	size_t nthreads, threads_cap;
	struct u64map thread_by_tid; /* (tid, process) -> index + 1 */
	struct u64map next_ordinal;  /* process -> ordinals given so far */
	struct hb_lock *locks;
	size_t nlocks, locks_cap;
	struct u64map lock_by_addr;
	struct hb_lock_memo lock_memo[64]; /* recent look-ups of lock_by_addr, by address */
	struct hb_var *vars;
	size_t nvars, vars_cap;
	struct u64map var_by_addr;
	struct hb_var_memo var_memo[256]; /* recent look-ups of var_by_addr, by address */
	struct hb_shadow *shadows;
	size_t nshadows, shadows_cap;
	struct u64map shadow_by_key;  /* (var << 8 | key kind, key id) -> index + 1 */
	struct u64map binding_by_obj; /* object address -> shadow index + 1 it was last stored in */
	struct u64map spawn_clock;    /* boot pointer -> index into vcs + 1 */
	struct u64map channel_clock;  /* (queue, item) -> index into vcs + 1 */
	struct u64map channel_pending;	/* (queue, item) -> puts not yet taken */
	struct u64map registry_by_dict; /* registry dict address -> registry number */
	struct u64map registry_clock; /* (registry << 8 | key kind, key id) -> index into vcs + 1 */
	uint64_t next_registry;
	struct vclock *vcs;
	size_t nvcs, vcs_cap;
	uint32_t *lockset_items; /* interned locksets: [count, lock...] */
	size_t nlockset_items, lockset_items_cap;
	struct u64map lockset_by_hash;
	struct hb_race *races;
	size_t nraces, races_cap;
	struct u64map race_by_hash;
	struct u64map spawn_site; /* boot pointer -> (parent + 1) << 32 | spawn stack + 1 */
	uint8_t *test_frame; /* by stack: innermost test frame + 2, 1 for none, 0 not known yet */
	size_t test_frame_cap;
	uint8_t
	    *tstate_lock; /* by stack: 2 innermost is Thread._set_tstate_lock, 1 not, 0 unknown */
	size_t tstate_lock_cap;
	uint64_t tstate_lock_replaced; /* code->replaced when tstate_lock was last valid */
	uint32_t thread_generation;    /* changes when a (process, tid) names a new thread */
	uint32_t main_test_stack;      /* the main thread's latest stack inside a test */
	struct lockorder order;
	int predict;			 /* --predict: races by weak causal precedence */
	struct wcp wcp; /* its clocks */ /* potential deadlocks */
	/* counters */
	uint64_t events, watched_dicts, truncated_stacks;
	int out_of_memory;
};

void hb_init(struct hb *h, struct code_table *code);
void hb_free(struct hb *h);
void hb_set_main_pid(struct hb *h, uint32_t pid);
/* --predict: order by weak causal precedence instead of happens-before (see wcp.h). */
void hb_set_predict(struct hb *h, int on);
/* Feeds one event in trace order; its stack is one of h->code's. */
void hb_feed(struct hb *h, const struct trace_event *e);
/* Hints for an event that hb_feed will be given soon: stage 0 brings in where its key is
 * looked up, stage 1 (later) the key's shadow, stage 2 (later still) the reads it remembers.
 * The analysis of a long trace waits on memory more than it computes: accesses to keys all
 * over a large working set each miss the caches a few times. Changes nothing. */
void hb_prefetch(struct hb *h, struct trace_event *e, int stage);
/* The same for an event as the kernel gives it (its stack interned here). */
void hb_event(struct hb *h, const struct pyrace_event *e);

/* Whether an operation writes (iteration and copy read every key; everything else but a plain
 * read writes). */
int hb_op_is_write(uint8_t op);

/* Index of the innermost frame of `stack` that is a test function (pytest's and unittest's
 * conventions: test* in test_*.py or *_test.py), or -1. */
int hb_test_frame(struct hb *h, uint32_t stack);

/* Locks of an interned lockset: returns the count and points `locks` at the indices. */
size_t hb_lockset(const struct hb *h, uint32_t lockset, const uint32_t **locks);

#endif
