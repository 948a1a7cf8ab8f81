// SPDX-License-Identifier: GPL-2.0
/* Uprobes on the CPython interpreter: accesses to watched dicts and synchronisation events. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "events.h"

char LICENSE[] SEC("license") = "GPL";

const volatile struct pyrace_layout L = {};
/* argument maps (events.h): argregs[map][i] is the register holding argument i */
const volatile __u8 argregs[PYRACE_ARGMAPS][PYRACE_ARGMAP_ARGS] = {};
/* ... plus this constant (an inlined copy's `args` may be its caller's args + 1) */
const volatile __s32 argoffs[PYRACE_ARGMAPS][PYRACE_ARGMAP_ARGS] = {};
/* Wake the consumer only once this much data waits: one wake-up per event costs more than the
 * event itself. The consumer also polls on a short timeout, so nothing is left behind. */
const volatile __u64 wakeup_bytes = 256 * 1024;
/* pyrace run only: stop the program as its interpreter shuts down, until the consumer has read
 * every code object that the events so far refer to (they are freed during shutdown). */
const volatile __u8 stop_at_finalize = 0;
/* pyrace --no-reads: no read probe is attached, so no lookup completes a deferred operation */
const volatile __u8 record_reads = 1;
/* dicts stored in watched dicts are watched down to this depth (1: only those bound to globals) */
const volatile __u8 max_depth = 2;

#define SIGSTOP 19

#define PY_TPFLAGS_DICT_SUBCLASS (1UL << 29)

struct watch_info {
	__u8 kind;
	__u8 depth; /* 1: bound to a global, 2: stored in such a dict, ... */
};

/* Keyed by process too: after a fork, parent and child hold different dicts at the same
 * addresses, and one freeing its dict must not unwatch the other's. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 262144);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pyrace_watch_key);
	__type(value, struct watch_info);
} watched SEC(".maps");

struct call_stash {
	__u64 obj;
	__u64 bias;
};

/* Entry arguments kept for the return probe, one per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct call_stash);
} stash SEC(".maps");

/* A key operation on a watched dict whose key has no identity readable at entry (not a str nor
 * a small int): it is recorded by the dict lookup it makes next, which is given the key's hash. */
struct pending_op {
	__u64 dict;
	__u64 key;
	__u8 op;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct pending_op);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

/* The event being built, one per thread: a uprobe program can be preempted (it runs with
 * migration, not preemption, disabled), and another thread on the same CPU would overwrite a
 * per-CPU buffer under it; the free-threaded build runs its threads truly at once. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pyrace_event);
} scratch SEC(".maps");

/* [0] events the ring buffer had no room for, [1] stacks cut short by an unreadable frame */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* The last access emitted on this CPU: a write's own internal lookup is not a second access, nor
 * is reading the same key again with no synchronisation between (it would add nothing to the
 * happens-before state). A synchronisation event of the thread forgets it. */
struct last_access {
	__u64 tid;
	__u64 dict;
	__u64 key;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct last_access);
} last SEC(".maps");

static __always_inline void count(__u32 which)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &which);
	if (c)
		*c += 1;
}

static __always_inline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;
	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

/* Cookie of a probe point: its link-time address in the low 48 bits, its argument map in bits
 * 48-55 and the handler that runs it in the top byte (see dispatch). */
#define COOKIE_ADDR_MASK ((1ULL << 48) - 1)

/* The verifier allows only constant offsets into the context: a register chosen at run time is
 * picked from a copy of them all. */
static __always_inline __u64 reg_value(struct pt_regs *ctx, __u8 reg)
{
	__u64 r[16] = {
	    [PYREG_RDI] = ctx->di,  [PYREG_RSI] = ctx->si,  [PYREG_RDX] = ctx->dx,
	    [PYREG_RCX] = ctx->cx,  [PYREG_R8] = ctx->r8,   [PYREG_R9] = ctx->r9,
	    [PYREG_RAX] = ctx->ax,  [PYREG_RBX] = ctx->bx,  [PYREG_RBP] = ctx->bp,
	    [PYREG_R10] = ctx->r10, [PYREG_R11] = ctx->r11, [PYREG_R12] = ctx->r12,
	    [PYREG_R13] = ctx->r13, [PYREG_R14] = ctx->r14, [PYREG_R15] = ctx->r15,
	};
	return r[reg & 15];
}

/* The argument map of this probe point (0: the calling convention). */
static __always_inline __u32 argmap(struct pt_regs *ctx)
{
	return (__u32)(bpf_get_attach_cookie(ctx) >> 48) & 0xff;
}

/* Argument i of the probed function, wherever argument map `map` says it is. */
static __always_inline __u64 arg_in(struct pt_regs *ctx, __u32 map, __u32 i)
{
	if (map == 0 || map >= PYRACE_ARGMAPS || i >= PYRACE_ARGMAP_ARGS) {
		switch (i) {
		case 0:
			return PT_REGS_PARM1(ctx);
		case 1:
			return PT_REGS_PARM2(ctx);
		case 2:
			return PT_REGS_PARM3(ctx);
		case 3:
			return PT_REGS_PARM4(ctx);
		case 4:
			return PT_REGS_PARM5(ctx);
		default:
			return ctx->r9;
		}
	}
	return reg_value(ctx, argregs[map][i]) + (__s64)argoffs[map][i];
}

static __always_inline __u64 arg(struct pt_regs *ctx, __u32 i)
{
	return arg_in(ctx, argmap(ctx), i);
}

static __always_inline __u64 load_bias(struct pt_regs *ctx)
{
	return PT_REGS_IP(ctx) - (bpf_get_attach_cookie(ctx) & COOKIE_ADDR_MASK);
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} handlers SEC(".maps");

/* Every probe point of one file and direction shares one link to this program, which passes
 * control to the handler named in the cookie: the kernel then unregisters all of them after a
 * single grace period when pyrace detaches. */
SEC("uprobe")
int dispatch(struct pt_regs *ctx)
{
	bpf_tail_call(ctx, &handlers, (__u32)(bpf_get_attach_cookie(ctx) >> 56));
	return 0;
}

static __always_inline struct pyrace_event *new_event(__u8 type, __u8 op)
{
	__u32 zero = 0;
	__u64 id = bpf_get_current_pid_tgid();
	if (type == PYEV_SYNC) {
		/* a read after a release or an acquire is in a new epoch: never a repeat */
		struct last_access *la = bpf_map_lookup_elem(&last, &zero);
		if (la && la->tid == id)
			la->tid = 0;
	}
	struct pyrace_event *e = bpf_task_storage_get(&scratch, bpf_get_current_task_btf(), NULL,
						      BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!e) {
		count(0); /* no memory for this thread's buffer: lost, and counted as such */
		return NULL;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->type = type;
	e->op = op;
	e->nframes = 0;
	e->key_kind = PYKEY_NONE;
	e->key_len = 0;
	e->truncated = 0;
	e->process = 0;
	e->obj = 0;
	e->aux = 0;
	e->key_id = 0;
	return e;
}

static __always_inline void submit_flags(struct pyrace_event *e, __u64 force)
{
	__u64 size = PYRACE_EVENT_HEADER_SIZE + (__u64)e->nframes * sizeof(struct pyrace_frame);
	/* keep the compiler from bounding nframes instead of size: the verifier needs size */
	asm volatile("" : "+r"(size));
	if (size > sizeof(*e))
		size = sizeof(*e);
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (force || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, e, size, flags))
		count(0);
}

static __always_inline void submit(struct pyrace_event *e)
{
	submit_flags(e, 0);
}

/* Walks the current thread's interpreter frames: (code object, instruction index) pairs. */
/* The innermost interpreter frame of the current thread. */
static __always_inline __u64 current_frame(__u64 bias)
{
	if (L.tls_tstate) {
		/* 3.13+: _Py_tss_tstate, set while the thread holds the GIL, as every probed
		 * function does */
		struct task_struct *task = bpf_get_current_task_btf();
		__u64 tstate = read_u64(task->thread.fsbase + (__s64)L.tls_tstate);
		return tstate ? read_u64(tstate + L.tstate_current_frame) : 0;
	}
	__u64 tstate = read_u64(bias + L.runtime_addr + L.runtime_tstate_current);
	if (!tstate)
		return 0;
	__u64 cframe = read_u64(tstate + L.tstate_cframe);
	if (!cframe)
		return 0;
	return read_u64(cframe + L.cframe_current_frame);
}

/* The head of an _PyInterpreterFrame, read in one go: every field the walk needs lies in its
 * first 80 bytes in every supported version (3.14's owner byte is the last, at 74). The buffer
 * is a power of two so that masking keeps the verifier sure of every index. */
#define FRAME_HEAD_BYTES 80
#define FRAME_HEAD_ALLOC 128
union frame_head {
	__u64 words[FRAME_HEAD_ALLOC / 8];
	__u8 bytes[FRAME_HEAD_ALLOC];
};

/* Bytes of the frame head to read: up to the last field used, so that a frame at the end of a
 * mapping is not lost for bytes nobody looks at. */
static __always_inline __u32 frame_head_span(void)
{
	__u32 span = L.frame_owner + 1;
	if (L.frame_code + 8 > span)
		span = L.frame_code + 8;
	if (L.frame_previous + 8 > span)
		span = L.frame_previous + 8;
	if (L.frame_prev_instr + 8 > span)
		span = L.frame_prev_instr + 8;
	return span;
}

/* A field of the frame head at a layout offset; offsets are multiples of 8 except the owner's. */
static __always_inline __u64 head_word(const union frame_head *h, __u32 offset)
{
	return h->words[(offset / 8) & (FRAME_HEAD_ALLOC / 8 - 1)];
}

/* Whether a frame is a Python function's: 3.13+ also link C-stack shim frames and frames whose
 * executable is not a code object into the chain. */
static __always_inline int is_python_frame(const union frame_head *h, __u64 code, __u64 bias)
{
	if (L.owner_cstack != 0xff &&
	    h->bytes[L.frame_owner & (FRAME_HEAD_ALLOC - 1)] >= L.owner_cstack)
		return 0;
	return !L.code_type_addr || read_u64(code + L.obj_type) == bias + L.code_type_addr;
}

/* A function of its own, checked by the verifier once: the frame walk with its skipped frames
 * inlined into every program that captures a stack is more states than it allows. The frame
 * count lives in the event, so that states do not differ by it. */
__noinline int capture_stack(struct pyrace_event *e, __u64 bias)
{
	if (!e)
		return 0;
	__u64 frame = current_frame(bias);
	__u32 span = frame_head_span();
	if (span > FRAME_HEAD_BYTES)
		return 0;
	e->nframes = 0;
	for (int i = 0; i < PYRACE_MAX_FRAMES + 8 && frame; i++) {
		union frame_head head;
		if (bpf_probe_read_user(&head, span, (void *)frame)) {
			count(1);
			e->truncated = 1;
			break;
		}
		/* 3.14 tags the executable reference in its low bits */
		__u64 code = head_word(&head, L.frame_code) & ~3ULL;
		__u64 instr_ptr = head_word(&head, L.frame_prev_instr);
		int keep = is_python_frame(&head, code, bias);
		frame = head_word(&head, L.frame_previous);
		if (!keep)
			continue;
		__u32 n = e->nframes;
		if (n >= PYRACE_MAX_FRAMES) {
			e->truncated = 1;
			break;
		}
		__u64 base = code + L.code_adaptive;
		e->frames[n].code = code;
		e->frames[n].instr = instr_ptr >= base ? (__u32)((instr_ptr - base) / 2) : 0;
		e->frames[n].reserved = 0;
		e->nframes = (__u8)(n + 1);
	}
	return 0;
}

/* The head of a key object (str or int), read in one go: type, length, hash, state, the utf8
 * pointer and an int's first digits all lie in its first 64 bytes (72 on a free-threaded build,
 * whose object header is 16 bytes longer). A short object at the end of a mapping can fail that
 * read; its fields are then read one by one. The buffer is a power of two so that masking keeps
 * the verifier sure of every index. */
#define OBJ_HEAD_BYTES 80
#define OBJ_HEAD_ALLOC 128
struct obj_head {
	__u64 words[OBJ_HEAD_ALLOC / 8];
	__u64 obj;
	int whole; /* words holds the head */
};

static __always_inline void read_obj_head(struct obj_head *h, __u64 obj)
{
	__u32 span = L.str_utf8 + 8 > L.str_ascii_data ? L.str_utf8 + 8 : L.str_ascii_data;
	h->obj = obj;
	h->whole = span <= OBJ_HEAD_BYTES && bpf_probe_read_user(h->words, span, (void *)obj) == 0;
}

/* The 8 bytes at an 8-aligned offset of the head. */
static __always_inline __u64 head_field(const struct obj_head *h, __u32 offset)
{
	if (h->whole)
		return h->words[(offset / 8) & (OBJ_HEAD_ALLOC / 8 - 1)];
	return read_u64(h->obj + offset);
}

/* Signed digit count of an int: ob_size, or from 3.12 on the sign and count in lv_tag. */
static __always_inline __s64 long_size(const struct obj_head *h)
{
	__u64 raw = head_field(h, L.long_size);
	if (!L.long_tagged)
		return (__s64)raw;
	__s64 ndigits = (__s64)(raw >> 3);
	__u64 sign = raw & 3;
	return sign == 2 ? -ndigits : sign == 1 ? 0 : ndigits;
}

/* Whether a key's identity can be read from the object itself: a str whose hash is cached, or
 * an int of at most two digits (its value). Other keys, and a str made just before the call
 * (hash not computed yet: -1), are identified by the hash the dict computes, which only some
 * probe points receive. */
static __always_inline int key_is_plain(__u64 key, __u64 bias)
{
	struct obj_head h;
	read_obj_head(&h, key);
	__u64 type = head_field(&h, L.obj_type);
	if (type == bias + L.str_type_addr)
		return head_field(&h, L.str_hash) != (__u64)-1;
	if (type == bias + L.int_type_addr) {
		__s64 size = long_size(&h);
		return size >= -2 && size <= 2;
	}
	return 0;
}

/* Fills the key identity and text: str by hash and text, int by value, others by the hash the
 * dict uses (`hash`), with their type's name as text. */
static __always_inline void read_key(struct pyrace_event *e, __u64 key, __u64 hash, __u64 bias)
{
	struct obj_head h;
	read_obj_head(&h, key);
	__u64 type = head_field(&h, L.obj_type);
	if (type == bias + L.str_type_addr) {
		/* state is a 32-bit field at an 8-aligned offset: the low half of its word */
		__u32 state = (__u32)head_field(&h, L.str_state);
		__u64 len = 0, src = 0;
		e->key_id = head_field(&h, L.str_hash);
		if (e->key_id == (__u64)-1 && hash)
			e->key_id = hash; /* not cached yet: the one the dict computed */
		e->key_kind = PYKEY_STR;
		int compact = (state >> L.str_compact_bit) & 1,
		    ascii = (state >> L.str_ascii_bit) & 1;
		if (compact && ascii) {
			len = head_field(&h, L.str_length);
			src = key + L.str_ascii_data;
		} else if (compact) {
			len = head_field(&h, L.str_utf8_length);
			src = head_field(&h, L.str_utf8);
		}
		__u32 n = len > PYRACE_KEY_MAX ? PYRACE_KEY_MAX : (__u32)len;
		if (src && n && bpf_probe_read_user(e->key, n, (void *)src) == 0)
			e->key_len = n;
		return;
	}
	if (type == bias + L.int_type_addr) {
		__s64 size = long_size(&h);
		if (size >= -2 && size <= 2) {
			/* ob_digit is 8-aligned: digits 0 and 1 are the halves of one word */
			__u64 digits = head_field(&h, L.long_digits);
			__u64 mag = 0;
			if (size == 1 || size == -1)
				mag = (__u32)digits;
			else if (size == 2 || size == -2)
				mag = (__u32)digits | ((digits >> 32) << 30);
			e->key_id = size < 0 ? (__u64)(-(__s64)mag) : mag;
			e->key_kind = PYKEY_INT;
			return;
		}
	}
	e->key_id = hash;
	e->key_kind = PYKEY_OTHER;
	__u64 name = type ? read_u64(type + L.type_name) : 0;
	long n = name ? bpf_probe_read_user_str(e->key, PYRACE_KEY_MAX, (void *)name) : 0;
	if (n > 1)
		e->key_len = (__u8)(n - 1);
}

static __always_inline struct pyrace_watch_key watch_key(__u64 dict)
{
	struct pyrace_watch_key k = {.tgid = bpf_get_current_pid_tgid() >> 32, .addr = dict};
	return k;
}

/* See PYRACE_WATCH_FILTER_SLOTS; user space marks the dicts it adds (pyrace attach) too. */
__u8 watch_filter[PYRACE_WATCH_FILTER_SLOTS];

static __always_inline struct watch_info *watch_entry(__u64 dict)
{
	struct pyrace_watch_key k = watch_key(dict);
	if (!watch_filter[pyrace_watch_filter_slot(k.tgid, dict)])
		return NULL;
	return bpf_map_lookup_elem(&watched, &k);
}

/* Adds a dict to the watched set; 0 when added. Marked in the filter first, so that no lookup
 * between the two can miss it. */
static __always_inline long watch_add(const struct pyrace_watch_key *k,
				      const struct watch_info *info, __u64 flags)
{
	watch_filter[pyrace_watch_filter_slot(k->tgid, k->addr)] = 1;
	return bpf_map_update_elem(&watched, k, info, flags);
}

/* A dict whose accesses are recorded: a registry's are not. */
static __always_inline struct watch_info *watched_dict(__u64 dict)
{
	struct watch_info *w = watch_entry(dict);
	return w && w->kind != PYWATCH_REGISTRY ? w : NULL;
}

static __always_inline int is_dict(__u64 obj, __u64 bias)
{
	__u64 type = read_u64(obj + L.obj_type);
	if (!type)
		return 0;
	if (type == bias + L.dict_type_addr)
		return 1;
	__u64 flags = read_u64(type + L.type_flags);
	return (flags & PY_TPFLAGS_DICT_SUBCLASS) != 0;
}

static __always_inline void remember_access(__u64 dict, __u64 key)
{
	__u32 zero = 0;
	struct last_access *la = bpf_map_lookup_elem(&last, &zero);
	if (la) {
		la->tid = bpf_get_current_pid_tgid();
		la->dict = dict;
		la->key = key;
	}
}

static __always_inline int repeats_last_access(__u64 dict, __u64 key)
{
	__u32 zero = 0;
	struct last_access *la = bpf_map_lookup_elem(&last, &zero);
	return la && la->dict == dict && la->key == key && la->tid == bpf_get_current_pid_tgid();
}

static __always_inline void emit_access(struct pt_regs *ctx, __u8 op, __u64 dict, __u64 key,
					__u64 hash, __u64 value)
{
	__u64 bias = load_bias(ctx);
	struct pyrace_event *e = new_event(PYEV_ACCESS, op);
	if (!e)
		return;
	e->obj = dict;
	e->aux = value;
	if (key)
		read_key(e, key, hash, bias);
	if (e->key_kind == PYKEY_OTHER) {
		__u64 tid = bpf_get_current_pid_tgid();
		bpf_map_delete_elem(&pending, &tid);
	}
	capture_stack(e, bias);
	submit(e);
	remember_access(dict, key);
}

#define PY_TPFLAGS_LIST_SUBCLASS (1UL << 25)

/* What a value bound to a global becomes when watched: a dict, a list or a set (exact type:
 * set subclasses have no type flag to tell them by), or nothing. */
static __always_inline __u8 global_watch_kind(__u64 value, __u64 bias)
{
	__u64 type = read_u64(value + L.obj_type);
	if (!type)
		return 0;
	if (type == bias + L.dict_type_addr)
		return PYWATCH_GLOBAL_DICT;
	if (L.list_type_addr && type == bias + L.list_type_addr)
		return PYWATCH_GLOBAL_LIST;
	if (L.set_type_addr && type == bias + L.set_type_addr)
		return PYWATCH_GLOBAL_SET;
	__u64 flags = read_u64(type + L.type_flags);
	if (flags & PY_TPFLAGS_DICT_SUBCLASS)
		return PYWATCH_GLOBAL_DICT;
	if (L.list_type_addr && (flags & PY_TPFLAGS_LIST_SUBCLASS))
		return PYWATCH_GLOBAL_LIST;
	return 0;
}

/* A store into a module dict of a dict, list or set value makes that object watched too. */
static __always_inline void watch_global_dict(struct pt_regs *ctx, __u64 module_dict, __u64 name,
					      __u64 value)
{
	__u64 bias = load_bias(ctx);
	__u8 kind = value ? global_watch_kind(value, bias) : 0;
	if (!kind)
		return;
	/* __builtins__, __annotations__ ...: interpreter plumbing, not program state */
	char head[2] = {};
	if (read_u64(name + L.obj_type) == bias + L.str_type_addr &&
	    bpf_probe_read_user(head, 2, (void *)(name + L.str_ascii_data)) == 0 &&
	    head[0] == '_' && head[1] == '_')
		return;
	struct watch_info info = {.kind = kind, .depth = 1};
	struct pyrace_watch_key k = watch_key(value);
	if (watch_add(&k, &info, BPF_NOEXIST))
		return;
	struct pyrace_event *e = new_event(PYEV_WATCH, kind);
	if (!e)
		return;
	e->obj = value;
	e->aux = module_dict;
	read_key(e, name, 0, bias);
	submit(e);
}

/* CACHE[a] = {} in a watched dict: CACHE[a][b] is a variable too, down to max_depth. */
static __always_inline void watch_nested_dict(struct pt_regs *ctx, __u64 parent, __u8 depth,
					      __u64 key, __u64 hash, __u64 value)
{
	__u64 bias = load_bias(ctx);
	if (depth >= max_depth || !value || !is_dict(value, bias))
		return;
	struct watch_info info = {.kind = PYWATCH_NESTED, .depth = depth + 1};
	struct pyrace_watch_key k = watch_key(value);
	if (watch_add(&k, &info, BPF_NOEXIST))
		return;
	struct pyrace_event *e = new_event(PYEV_WATCH, PYWATCH_NESTED);
	if (!e)
		return;
	e->obj = value;
	e->aux = parent;
	read_key(e, key, hash, bias);
	submit(e);
}

static __always_inline void emit_registry(struct pt_regs *ctx, __u8 op, __u64 dict, __u64 key,
					  __u64 hash)
{
	struct pyrace_event *e = new_event(PYEV_SYNC, op);
	if (!e)
		return;
	e->obj = dict;
	read_key(e, key, hash, load_bias(ctx));
	submit(e);
}

static __always_inline int on_store(struct pt_regs *ctx, __u64 dict, __u64 key, __u64 hash,
				    __u64 value)
{
	struct watch_info *w = watch_entry(dict);
	if (!w)
		return 0;
	if (w->kind == PYWATCH_REGISTRY) {
		emit_registry(ctx, PYSYNC_REGISTRY_INSERT, dict, key, hash);
		return 0;
	}
	if (w->kind == PYWATCH_MODULE)
		watch_global_dict(ctx, dict, key, value);
	else
		watch_nested_dict(ctx, dict, w->depth, key, hash, value);
	emit_access(ctx, PYOP_WRITE, dict, key, hash, w->kind == PYWATCH_MODULE ? value : 0);
	return 0;
}

SEC("uprobe")
int insertdict(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), key = arg_in(ctx, map, 1), hash = arg_in(ctx, map, 2),
	      value = arg_in(ctx, map, 3);
	return on_store(ctx, dict, key, hash, value);
}

SEC("uprobe")
int insert_to_emptydict(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), key = arg_in(ctx, map, 1), hash = arg_in(ctx, map, 2),
	      value = arg_in(ctx, map, 3);
	return on_store(ctx, dict, key, hash, value);
}

/* Leaves the access to the dict lookup that the operation makes next, with the key's hash. */
static __always_inline void defer_to_lookup(__u8 op, __u64 dict, __u64 key)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct pending_op p = {.dict = dict, .key = key, .op = op};
	bpf_map_update_elem(&pending, &tid, &p, BPF_ANY);
}

/* A key operation on a dict known to be watched. */
static __always_inline int on_watched_key_op(struct pt_regs *ctx, __u8 op, __u64 dict, __u64 key)
{
	if (key && !key_is_plain(key, load_bias(ctx))) {
		if (record_reads)
			defer_to_lookup(op, dict, key);
		return 0;
	}
	emit_access(ctx, op, dict, key, 0, 0);
	return 0;
}

static __always_inline int on_key_op(struct pt_regs *ctx, __u8 op, __u64 dict, __u64 key)
{
	if (!watched_dict(dict))
		return 0;
	return on_watched_key_op(ctx, op, dict, key);
}

SEC("uprobe")
int dict_delitem(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), key = arg_in(ctx, map, 1);
	return on_key_op(ctx, PYOP_DELETE, dict, key);
}

/* dict.pop(key[, default]) and dict.get(key[, default]) take (self, args, nargs). */
SEC("uprobe")
int dict_pop(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), args = arg_in(ctx, map, 1);
	if (!watched_dict(dict))
		return 0;
	__u64 key = read_u64(args);
	/* an empty dict is left without a lookup: a pop that finds nothing changes nothing */
	if (read_u64(dict + L.dict_used) == 0 && !key_is_plain(key, load_bias(ctx)))
		return 0;
	return on_watched_key_op(ctx, PYOP_POP, dict, key);
}

SEC("uprobe")
int dict_get(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), args = arg_in(ctx, map, 1);
	return on_key_op(ctx, PYOP_READ, dict, read_u64(args));
}

SEC("uprobe")
int dict_setdefault(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), key = arg_in(ctx, map, 1);
	return on_key_op(ctx, PYOP_SETDEFAULT, dict, key);
}

/* 3.13+: dict.setdefault(key[, default]) itself, (self, args, nargs): PyDict_SetDefault is
 * the C API only */
SEC("uprobe")
int dict_setdefault_args(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), args = arg_in(ctx, map, 1);
	return on_key_op(ctx, PYOP_SETDEFAULT, dict, read_u64(args));
}

/* 3.13+: the removal under dict.pop() and DELETE_GLOBAL; the first already made its access,
 * or left it to the lookup (a key without a readable identity), which is then still a pop */
SEC("uprobe")
int dict_pop_held(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), key = arg_in(ctx, map, 1);
	if (!watched_dict(dict) || repeats_last_access(dict, key))
		return 0;
	__u64 tid = bpf_get_current_pid_tgid();
	struct pending_op *p = bpf_map_lookup_elem(&pending, &tid);
	if (p && p->dict == dict && p->key == key)
		return 0;
	return on_watched_key_op(ctx, PYOP_DELETE, dict, key);
}

SEC("uprobe")
int dict_popitem(struct pt_regs *ctx)
{
	__u64 dict = arg(ctx, 0);
	return on_key_op(ctx, PYOP_POPITEM, dict, 0);
}

SEC("uprobe")
int dict_clear(struct pt_regs *ctx)
{
	__u64 dict = arg(ctx, 0);
	return on_key_op(ctx, PYOP_CLEAR, dict, 0);
}

/* update() into an empty dict clones the other table without insertdict. */
SEC("uprobe")
int dict_merge(struct pt_regs *ctx)
{
	__u64 dict = arg(ctx, 0);
	if (!watched_dict(dict))
		return 0;
	if (read_u64(dict + L.dict_used) != 0)
		return 0;
	emit_access(ctx, PYOP_UPDATE, dict, 0, 0, 0);
	return 0;
}

/* for k in D, D.copy(): every key is read */
SEC("uprobe")
int dict_iterate(struct pt_regs *ctx)
{
	__u64 dict = arg(ctx, 0);
	return on_key_op(ctx, PYOP_ITERATE, dict, 0);
}

/* iter(D.keys()), iter(D.items()), iter(D.values()): the view holds the dict */
SEC("uprobe")
int dictview_iterate(struct pt_regs *ctx)
{
	__u64 view = arg(ctx, 0);
	return on_key_op(ctx, PYOP_ITERATE, read_u64(view + L.dictview_dict), 0);
}

SEC("uprobe")
int dict_lookup(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), key = arg_in(ctx, map, 1), hash = arg_in(ctx, map, 2);
	if (!watched_dict(dict))
		return 0;
	if (repeats_last_access(dict, key))
		return 0;
	__u8 op = PYOP_READ;
	__u64 tid = bpf_get_current_pid_tgid();
	struct pending_op *p = bpf_map_lookup_elem(&pending, &tid);
	if (p && p->dict == dict && p->key == key)
		op = p->op;
	emit_access(ctx, op, dict, key, hash, 0);
	return 0;
}

SEC("uprobe")
int dict_contains(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), key = arg_in(ctx, map, 1);
	return on_key_op(ctx, PYOP_READ, dict, key);
}

/* _PyDict_DelItemIf(dict, key, predicate): only WeakValueDictionary's callback removes entries
 * this way, as their value dies. From then on the dict is a registry: a later store of the same
 * key (the value re-created because it was gone) is ordered after the removal. */
SEC("uprobe")
int registry_remove(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 dict = arg_in(ctx, map, 0), key = arg_in(ctx, map, 1);
	struct watch_info info = {.kind = PYWATCH_REGISTRY};
	struct pyrace_watch_key k = watch_key(dict);
	watch_add(&k, &info, BPF_NOEXIST);
	/* no hash here: a key other than a str or small int is not matched (no edge, no report) */
	emit_registry(ctx, PYSYNC_REGISTRY_REMOVE, dict, key, 0);
	return 0;
}

SEC("uprobe")
int dict_dealloc(struct pt_regs *ctx)
{
	__u64 dict = arg(ctx, 0);
	if (!watch_entry(dict))
		return 0;
	struct pyrace_watch_key k = watch_key(dict);
	bpf_map_delete_elem(&watched, &k);
	struct pyrace_event *e = new_event(PYEV_UNWATCH, 0);
	if (!e)
		return 0;
	e->obj = dict;
	submit(e);
	return 0;
}

/* ---- lists and sets bound to globals ----
 * Every list and set operation of the program passes through these: anything not watched costs
 * the one map lookup of watched_as. A list is one variable (indices shift under inserts and
 * pops, so an index names no stable element); a set's elements are keys, like a dict's. */

static __always_inline struct watch_info *watched_as(__u64 obj, __u8 kind)
{
	struct watch_info *w = watch_entry(obj);
	return w && w->kind == kind ? w : NULL;
}

static __always_inline int on_list(struct pt_regs *ctx, __u8 op, __u64 list)
{
	if (watched_as(list, PYWATCH_GLOBAL_LIST))
		emit_access(ctx, op, list, 0, 0, 0);
	return 0;
}

/* Their arguments come through the argument map: 3.13/3.14 clones and inlined copies (the eval
 * loop's append that grows the list) hold them elsewhere than the calling convention says. */
SEC("uprobe")
int list_write(struct pt_regs *ctx)
{
	return on_list(ctx, PYOP_WRITE, arg(ctx, 0));
}

SEC("uprobe")
int list_read(struct pt_regs *ctx)
{
	return on_list(ctx, PYOP_READ, arg(ctx, 0));
}

/* list_extend(self, iterable): `L += x`, `L.extend(x)`, and list(L) / sorted(L), whose source
 * list is copied without an iterator, so its read is seen only here. */
SEC("uprobe")
int list_extend(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 list = arg_in(ctx, map, 0), iterable = arg_in(ctx, map, 1);
	on_list(ctx, PYOP_WRITE, list);
	if (record_reads)
		on_list(ctx, PYOP_READ, iterable);
	return 0;
}

/* A set element is identified like a dict key: str by hash, small int by value. Other elements
 * carry no hash the probe can read (the set computes it inside the inlined lookup): they are
 * told apart by type only, so two different tuples are one element, which may over-report. */
static __always_inline int on_set_key(struct pt_regs *ctx, __u8 op, __u64 set, __u64 key)
{
	if (!watched_as(set, PYWATCH_GLOBAL_SET))
		return 0;
	__u64 bias = load_bias(ctx);
	__u64 type_id = key && !key_is_plain(key, bias) ? read_u64(key + L.obj_type) : 0;
	emit_access(ctx, op, set, key, type_id, 0);
	return 0;
}

SEC("uprobe")
int set_add(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	return on_set_key(ctx, PYOP_WRITE, arg_in(ctx, map, 0), arg_in(ctx, map, 1));
}

SEC("uprobe")
int set_discard(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	return on_set_key(ctx, PYOP_DELETE, arg_in(ctx, map, 0), arg_in(ctx, map, 1));
}

SEC("uprobe")
int set_contains(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	return on_set_key(ctx, PYOP_READ, arg_in(ctx, map, 0), arg_in(ctx, map, 1));
}

static __always_inline int on_set_whole(struct pt_regs *ctx, __u8 op, __u64 set)
{
	if (watched_as(set, PYWATCH_GLOBAL_SET))
		emit_access(ctx, op, set, 0, 0, 0);
	return 0;
}

SEC("uprobe")
int set_clear(struct pt_regs *ctx)
{
	return on_set_whole(ctx, PYOP_CLEAR, arg(ctx, 0));
}

/* the element removed is chosen inside: a write of the whole set */
SEC("uprobe")
int set_pop(struct pt_regs *ctx)
{
	return on_set_whole(ctx, PYOP_POPITEM, arg(ctx, 0));
}

SEC("uprobe")
int set_iterate(struct pt_regs *ctx)
{
	return on_set_whole(ctx, PYOP_ITERATE, arg(ctx, 0));
}

/* set_update_internal(so, other): update(), |=, and every new set made from another (copy(),
 * set(S), S | T), which reads `other` by walking its table, with no iterator to see. */
SEC("uprobe")
int set_update(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 set = arg_in(ctx, map, 0), other = arg_in(ctx, map, 1);
	on_set_whole(ctx, PYOP_UPDATE, set);
	if (record_reads)
		on_set_whole(ctx, PYOP_ITERATE, other);
	return 0;
}

/* module_init_dict(module, md_dict, name, doc): every module's namespace passes here. */
SEC("uprobe")
int module_init_dict(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 module = arg_in(ctx, map, 0), md_dict = arg_in(ctx, map, 1),
	      name = arg_in(ctx, map, 2);
	struct watch_info info = {.kind = PYWATCH_MODULE};
	struct pyrace_watch_key k = watch_key(md_dict);
	watch_add(&k, &info, BPF_ANY);
	struct pyrace_event *e = new_event(PYEV_WATCH, PYWATCH_MODULE);
	if (!e)
		return 0;
	e->obj = md_dict;
	e->aux = module;
	read_key(e, name, 0, load_bias(ctx));
	submit(e);
	return 0;
}

static __always_inline void emit_sync(struct pt_regs *ctx, __u8 op, __u64 obj, __u64 aux,
				      __u64 bias, int with_stack)
{
	struct pyrace_event *e = new_event(PYEV_SYNC, op);
	if (!e)
		return;
	e->obj = obj;
	e->aux = aux;
	if (with_stack)
		capture_stack(e, bias);
	submit(e);
}

static __always_inline void stash_call(__u64 obj, __u64 bias)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_stash s = {.obj = obj, .bias = bias};
	bpf_map_update_elem(&stash, &id, &s, BPF_ANY);
}

static __always_inline int take_stash(struct call_stash *out)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct call_stash *s = bpf_map_lookup_elem(&stash, &id);
	if (!s)
		return -1;
	*out = *s;
	bpf_map_delete_elem(&stash, &id);
	return 0;
}

/* Lock.acquire / RLock.acquire: only a call that returns True acquired the lock. */
SEC("uprobe")
int lock_acquire_entry(struct pt_regs *ctx)
{
	__u64 lock = arg(ctx, 0);
	stash_call(lock, load_bias(ctx));
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(lock_acquire_return, __u64 ret)
{
	struct call_stash s;
	if (take_stash(&s))
		return 0;
	if (ret == s.bias + L.true_addr)
		emit_sync(ctx, PYSYNC_ACQUIRE, s.obj, 0, s.bias, 1);
	return 0;
}

/* _thread.allocate_lock() and RLock(): where each lock was made, for the report. */
SEC("uprobe")
int lock_new_entry(struct pt_regs *ctx)
{
	stash_call(0, load_bias(ctx));
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(lock_new_return, __u64 lock)
{
	struct call_stash s;
	if (take_stash(&s))
		return 0;
	if (lock)
		emit_sync(ctx, PYSYNC_LOCK_CREATED, lock, 0, s.bias, 1);
	return 0;
}

/* A copy of lock.acquire() inlined into its caller (3.13's method_vectorcall_VARARGS_KEYWORDS):
 * entered with the lock in some register, left where the caller's variable holds the result.
 * Keyed by stack pointer too, which is the same at both points of one frame: an acquire whose
 * argument parsing runs Python code that acquires another lock is not confused with it. */
struct inline_call_key {
	__u64 tid;
	__u64 sp;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct inline_call_key);
	__type(value, __u64);
} inline_calls SEC(".maps");

SEC("uprobe")
int lock_inline_entry(struct pt_regs *ctx)
{
	struct inline_call_key k = {.tid = bpf_get_current_pid_tgid(), .sp = PT_REGS_SP(ctx)};
	__u64 lock = arg(ctx, 0);
	bpf_map_update_elem(&inline_calls, &k, &lock, BPF_ANY);
	return 0;
}

SEC("uprobe")
int lock_inline_exit(struct pt_regs *ctx)
{
	struct inline_call_key k = {.tid = bpf_get_current_pid_tgid(), .sp = PT_REGS_SP(ctx)};
	__u64 *lock = bpf_map_lookup_elem(&inline_calls, &k);
	if (!lock)
		return 0;
	__u64 obj = *lock, bias = load_bias(ctx);
	bpf_map_delete_elem(&inline_calls, &k);
	if (arg(ctx, 0) == bias + L.true_addr)
		emit_sync(ctx, PYSYNC_ACQUIRE, obj, 0, bias, 1);
	return 0;
}

/* RLock._acquire_restore (Condition.wait on an RLock): returns None once re-acquired. */
SEC("uretprobe")
int BPF_KRETPROBE(lock_restore_return, __u64 ret)
{
	struct call_stash s;
	if (take_stash(&s))
		return 0;
	if (ret)
		emit_sync(ctx, PYSYNC_ACQUIRE, s.obj, 0, s.bias, 1);
	return 0;
}

SEC("uprobe")
int lock_release(struct pt_regs *ctx)
{
	__u64 lock = arg(ctx, 0);
	emit_sync(ctx, PYSYNC_RELEASE, lock, 0, load_bias(ctx), 1);
	return 0;
}

/* A lock.release() inlined where a bound builtin method is called (3.14's cfunction_call:
 * `lock.__exit__(*args)`, as Condition.__exit__ does): the copy's own argument is optimised
 * out there, but the method object is at hand and holds the lock as its self. */
SEC("uprobe")
int lock_release_bound(struct pt_regs *ctx)
{
	__u64 method = arg(ctx, 0);
	emit_sync(ctx, PYSYNC_RELEASE, read_u64(method + L.cfunction_self), 0, load_bias(ctx), 1);
	return 0;
}

SEC("uprobe")
int lock_dealloc(struct pt_regs *ctx)
{
	__u64 lock = arg(ctx, 0);
	emit_sync(ctx, PYSYNC_LOCK_FREED, lock, 0, 0, 0);
	return 0;
}

/* PyThread_start_new_thread(func, boot) (3.13+: PyThread_start_joinable_thread) in the parent;
 * thread_run(boot) in the child. */
SEC("uprobe")
int thread_spawn(struct pt_regs *ctx)
{
	__u64 boot = arg(ctx, 1);
	emit_sync(ctx, PYSYNC_THREAD_SPAWN, boot, 0, load_bias(ctx), 1);
	return 0;
}

SEC("uprobe")
int thread_begin(struct pt_regs *ctx)
{
	__u64 boot = arg(ctx, 0);
	emit_sync(ctx, PYSYNC_THREAD_BEGIN, boot, 0, 0, 0);
	return 0;
}

/* release_sentinel(weakref to the thread's lock): Thread.join() acquires that lock. */
SEC("uprobe")
int thread_exit(struct pt_regs *ctx)
{
	__u64 weakref = arg(ctx, 0);
	__u64 lock = read_u64(weakref + L.weakref_object);
	emit_sync(ctx, PYSYNC_THREAD_EXIT, lock, 0, 0, 0);
	return 0;
}

/* 3.13+: remove_from_shutdown_handles(handle) as the thread ends, after its last Python code */
SEC("uprobe")
int thread_end(struct pt_regs *ctx)
{
	__u64 handle = arg(ctx, 0);
	emit_sync(ctx, PYSYNC_THREAD_END, handle, 0, 0, 0);
	return 0;
}

/* 3.13t: _PyEvent_Notify(&handle->thread_is_exiting) as the thread ends, before its join can
 * return. Other events notified here give addresses that are no ThreadHandle's, never joined. */
SEC("uprobe")
int thread_exiting(struct pt_regs *ctx)
{
	__u64 event = arg(ctx, 0);
	emit_sync(ctx, PYSYNC_THREAD_END, event - L.handle_exiting, 0, 0, 0);
	return 0;
}

/* ThreadHandle_join(handle, timeout) returns 0 on a timeout too: the thread ended only when
 * its thread_is_exiting event is set. */
SEC("uprobe")
int thread_join_entry(struct pt_regs *ctx)
{
	stash_call(arg(ctx, 0), load_bias(ctx));
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(thread_join_return, __u64 ret)
{
	struct call_stash s;
	if (take_stash(&s))
		return 0;
	__u8 exiting = 0;
	bpf_probe_read_user(&exiting, 1, (void *)(s.obj + L.handle_exiting));
	if ((__u32)ret == 0 && exiting == 1)
		emit_sync(ctx, PYSYNC_THREAD_JOIN, s.obj, 0, s.bias, 1);
	return 0;
}

/* _queue.SimpleQueue.put(item, ...) takes (self, args, nargs, kwnames). */
SEC("uprobe")
int queue_put(struct pt_regs *ctx)
{
	__u32 map = argmap(ctx);
	__u64 queue = arg_in(ctx, map, 0), args = arg_in(ctx, map, 1);
	emit_sync(ctx, PYSYNC_QUEUE_PUT, queue, read_u64(args), 0, 0);
	return 0;
}

SEC("uprobe")
int queue_get_entry(struct pt_regs *ctx)
{
	__u64 queue = arg(ctx, 0);
	stash_call(queue, 0);
	return 0;
}

SEC("uretprobe")
int BPF_KRETPROBE(queue_get_return, __u64 item)
{
	struct call_stash s;
	if (take_stash(&s))
		return 0;
	if (item)
		emit_sync(ctx, PYSYNC_QUEUE_GET, s.obj, item, 0, 0);
	return 0;
}

SEC("uprobe")
int code_dealloc(struct pt_regs *ctx)
{
	__u64 code = arg(ctx, 0);
	struct pyrace_event *e = new_event(PYEV_CODE_FREED, 0);
	if (!e)
		return 0;
	e->obj = code;
	submit(e);
	return 0;
}

SEC("uprobe")
int finalize(struct pt_regs *ctx)
{
	struct pyrace_event *e = new_event(PYEV_FINALIZE, 0);
	if (!e)
		return 0;
	submit_flags(e, 1);
	if (stop_at_finalize)
		bpf_send_signal(SIGSTOP);
	return 0;
}

/* --global-reads: attached with the `python:line` USDT semaphore as reference counter only so
 * that the kernel raises it while pyrace is attached (at a site that never runs). That makes
 * CPython 3.11 run every instruction unspecialised, and LOAD_GLOBAL then reaches dict_lookup above;
 * nothing to do here. */
SEC("uprobe")
int line_semaphore(struct pt_regs *ctx)
{
	return 0;
}
