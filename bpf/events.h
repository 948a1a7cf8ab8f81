/* Event records and probe configuration shared by the eBPF programs and user space. */
#ifndef PYRACE_EVENTS_H
#define PYRACE_EVENTS_H

#ifdef __BPF__
#include "vmlinux.h"
#else
#include <linux/types.h>
#endif

#define PYRACE_MAX_FRAMES 24
#define PYRACE_KEY_MAX	  40

enum pyrace_event_type {
	PYEV_ACCESS = 1, /* a read or write of a key of a watched dict */
	PYEV_WATCH,	 /* a dict becomes watched: a module dict or a dict bound to a global */
	PYEV_UNWATCH,	 /* a watched dict was freed */
	PYEV_SYNC,	 /* lock, thread or queue hand-off */
	PYEV_CODE_FREED, /* a code object died: its address may now hold another one */
	PYEV_FINALIZE,	 /* the interpreter starts shutting down */
};

/* Operations of PYEV_ACCESS. Keep in step with op_names in collector/event_names.c. */
enum pyrace_access_op {
	PYOP_READ = 1,
	PYOP_WRITE,
	PYOP_DELETE,
	PYOP_POP,
	PYOP_SETDEFAULT,
	PYOP_CLEAR,   /* whole dict */
	PYOP_UPDATE,  /* whole dict: update into an empty dict */
	PYOP_POPITEM, /* whole dict: the removed key is not known at entry */
	PYOP_ITERATE, /* whole dict read: iteration, keys()/items()/values(), copy() */
};

/* Operations of PYEV_SYNC; `obj` says which object. */
enum pyrace_sync_op {
	PYSYNC_ACQUIRE = 1,  /* obj = lock (Lock or RLock), successful acquire only */
	PYSYNC_RELEASE,	     /* obj = lock */
	PYSYNC_THREAD_SPAWN, /* obj = boot pointer, in the parent */
	PYSYNC_THREAD_BEGIN, /* obj = boot pointer, in the child */
	PYSYNC_THREAD_EXIT,  /* obj = the thread's sentinel lock, released as the thread ends */
	PYSYNC_QUEUE_PUT,    /* obj = queue, aux = item */
	PYSYNC_QUEUE_GET,    /* obj = queue, aux = item */
	PYSYNC_LOCK_FREED,   /* obj = lock: its address may now hold another lock */
	/* weak-value registries (weakref.WeakValueDictionary's dict, e.g. oslo's lock names):
	 * an entry removed because its value died, later re-created for the same key */
	PYSYNC_REGISTRY_REMOVE, /* obj = registry dict, key = the removed key */
	PYSYNC_REGISTRY_INSERT, /* obj = registry dict, key = the stored key */
	/* 3.13+: a thread's end and its join meet at its ThreadHandle, not at a sentinel lock */
	PYSYNC_THREAD_END,   /* obj = ThreadHandle, in the ending thread */
	PYSYNC_THREAD_JOIN,  /* obj = ThreadHandle, in the joiner, once the join succeeded */
	PYSYNC_LOCK_CREATED, /* obj = a new Lock or RLock, with the stack that made it */
};

enum pyrace_watch_kind {
	PYWATCH_MODULE = 1,  /* a module's __dict__; key = module name */
	PYWATCH_GLOBAL_DICT, /* a dict bound to a module global; aux = module dict, key = global
				name */
	PYWATCH_NESTED,	     /* a dict stored in a watched dict (not a module's); aux = that dict,
				key = its key there */
	PYWATCH_REGISTRY,    /* kernel only: a weak-value registry's dict, whose stores are
				PYSYNC_REGISTRY_INSERT events and whose other accesses are ignored */
	PYWATCH_GLOBAL_LIST, /* a list bound to a module global; aux, key as PYWATCH_GLOBAL_DICT */
	PYWATCH_GLOBAL_SET,  /* a set bound to a module global; aux, key as PYWATCH_GLOBAL_DICT */
};

/* Key of the kernel's watched set: a dict of one process. */
struct pyrace_watch_key {
	__u32 tgid;
	__u32 reserved;
	__u64 addr;
};

/* A filter in front of the kernel's watched set: one byte per slot of a hash of (process,
 * address), set before a dict joins the set and never cleared (another dict may share its slot).
 * A clear byte proves a dict unwatched with one load, instead of a hash-map lookup on every dict
 * operation of the interpreter; a set one sends the lookup on to the set. */
#define PYRACE_WATCH_FILTER_BITS  18
#define PYRACE_WATCH_FILTER_SLOTS (1u << PYRACE_WATCH_FILTER_BITS)

static inline __u32 pyrace_watch_filter_slot(__u32 tgid, __u64 addr)
{
	/* objects are 16-aligned: the low four bits say nothing */
	__u64 x = (addr >> 4) ^ ((__u64)tgid << 40);
	return (__u32)((x * 0x9E3779B97F4A7C15ULL) >> (64 - PYRACE_WATCH_FILTER_BITS));
}

enum pyrace_key_kind {
	PYKEY_NONE = 0,
	PYKEY_STR,   /* text holds the first bytes of the str (ASCII or its UTF-8 when compact) */
	PYKEY_INT,   /* id holds the value */
	PYKEY_OTHER, /* id holds the hash the dict computed; text holds the type's name */
};

struct pyrace_frame {
	__u64 code;  /* PyCodeObject address in the target */
	__u32 instr; /* code unit index of the instruction being executed */
	__u32 reserved;
};

/* One record of the ring buffer; the frames array is cut to `nframes`. */
struct pyrace_event {
	__u64 ts_ns;
	__u32 pid;
	__u32 tid;
	__u8 type;
	__u8 op;
	__u8 nframes;
	__u8 key_kind;
	__u8 key_len;	/* bytes of text used */
	__u8 truncated; /* 1: the Python stack was deeper than PYRACE_MAX_FRAMES */
	/* 0 from the kernel; in a trace, the number of the process (TREC_PROCESS) whose address
	 * space obj, aux and the code addresses belong to (0: a trace of one process, untagged) */
	__u16 process;
	__u64 obj;    /* dict, lock, boot pointer or queue */
	__u64 aux;    /* see the op */
	__u64 key_id; /* identity of the key within its dict */
	char key[PYRACE_KEY_MAX];
	struct pyrace_frame frames[PYRACE_MAX_FRAMES];
};

#define PYRACE_EVENT_HEADER_SIZE                                                                   \
	(sizeof(struct pyrace_event) - sizeof(struct pyrace_frame) * PYRACE_MAX_FRAMES)

/* Life events of a followed process tree (bpf/tree.bpf.c), on a ring of their own. */
enum pyrace_proc_event_type {
	PYPROC_FORK = 1, /* a new process, stopped (SIGSTOP) before its first instruction unless
			    it shares its parent's memory (vfork), where it only runs until exec */
	PYPROC_EXEC,	 /* a followed process executed a new program, stopped before it runs */
};

struct pyrace_proc_event {
	__u32 type;
	__u32 pid;
	__u32 parent;  /* PYPROC_FORK: the process it was forked from */
	__u32 stopped; /* 1: it was sent SIGSTOP and waits for SIGCONT */
};

/* Registers a probe point's arguments may live in (GCC clones and inlined copies move them
 * out of the calling convention's order). */
enum pyrace_reg {
	PYREG_NONE = 0,
	PYREG_RDI,
	PYREG_RSI,
	PYREG_RDX,
	PYREG_RCX,
	PYREG_R8,
	PYREG_R9,
	PYREG_RAX,
	PYREG_RBX,
	PYREG_RBP,
	PYREG_R10,
	PYREG_R11,
	PYREG_R12,
	PYREG_R13,
	PYREG_R14,
	PYREG_R15,
};

/* Per probe point, where its program finds argument i: argument maps are numbered from 1 (0 is
 * the calling convention, rdi rsi rdx rcx r8 r9) and the map's number rides in the cookie. */
#define PYRACE_ARGMAPS	   64
#define PYRACE_ARGMAP_ARGS 6

/* Probe points: each BPF program is attached with its link-time address as cookie, so the load
 * bias of the module is PT_REGS_IP - cookie, and link-time addresses below become run-time ones. */
struct pyrace_layout {
	/* link-time addresses in the interpreter's core module (executable or libpython) */
	__u64 runtime_addr;   /* _PyRuntime */
	__u64 dict_type_addr; /* PyDict_Type */
	__u64 str_type_addr;  /* PyUnicode_Type */
	__u64 int_type_addr;  /* PyLong_Type */
	__u64 true_addr;      /* _Py_TrueStruct */
	/* struct offsets */
	__u32 runtime_tstate_current; /* _PyRuntime.gilstate.tstate_current */
	__u32 tstate_cframe;	      /* PyThreadState.cframe (3.11) */
	__u32 cframe_current_frame;   /* _PyCFrame.current_frame */
	__u32 frame_code;	      /* _PyInterpreterFrame.f_code */
	__u32 frame_previous;
	__u32 frame_prev_instr;
	__u32 frame_owner;
	__u32 code_adaptive; /* PyCodeObject.co_code_adaptive */
	__u32 obj_type;	     /* PyObject.ob_type */
	__u32 type_flags;    /* PyTypeObject.tp_flags */
	__u32 type_name;     /* PyTypeObject.tp_name */
	__u32 str_hash;	     /* PyASCIIObject.hash */
	__u32 str_state;     /* PyASCIIObject.state */
	__u32 str_length;
	__u32 str_ascii_data;  /* sizeof(PyASCIIObject) */
	__u32 str_utf8_length; /* PyCompactUnicodeObject.utf8_length */
	__u32 str_utf8;	       /* PyCompactUnicodeObject.utf8 */
	__u32 long_size;       /* PyVarObject.ob_size */
	__u32 long_digits;     /* PyLongObject.ob_digit */
	__u32 dict_used;       /* PyDictObject.ma_used */
	__u32 dictview_dict;   /* _PyDictViewObject.dv_dict */
	__u32 weakref_object;  /* PyWeakReference.wr_object */
	__u32 owner_cstack;    /* frame owner value of C-stack shim frames, 0xff if none */
	__u32 reserved_align;
	__u64 list_type_addr; /* PyList_Type, link-time; 0: lists are never watched */
	__u64 set_type_addr;  /* PySet_Type, link-time; 0: sets are never watched */
	/* 3.13+ */
	__s32 tls_tstate; /* current PyThreadState relative to the thread pointer (fsbase),
			     0: not known, take it from _PyRuntime */
	__u32 tstate_current_frame; /* PyThreadState.current_frame */
	__u64 code_type_addr; /* PyCode_Type: frames of other executables are skipped; 0 none */
	__u32 long_tagged;    /* PyLongObject.long_value.lv_tag instead of ob_size */
	__u32 handle_exiting; /* ThreadHandle.thread_is_exiting (a PyEvent byte) */
	/* bits of PyASCIIObject.state read as a u32 at str_state: 5 and 6 in every build
	 * measured (3.11 to 3.13t); a free-threaded build's DWARF gives them per build */
	__u8 str_compact_bit;
	__u8 str_ascii_bit;
	__u16 reserved_ft;
	__u32 cfunction_self; /* PyCFunctionObject.m_self (3.14: a release inlined in a call) */
};

#endif
