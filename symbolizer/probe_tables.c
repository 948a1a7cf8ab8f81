/* Which functions pyrace probes in each CPython version, and what it reads from them. */
#include "probe_tables.h"

#include <string.h>

#define CORE  PROBE_IN_CORE
#define QUEUE PROBE_IN_QUEUE

const struct probe_spec probe_specs[] = {
    {"insertdict", "insertdict", 0, CORE, "dict writes", "mp key hash value"},
    {"insert_to_emptydict", "insert_to_emptydict", 0, CORE, "dict writes", "mp key hash value"},
    {"dict_delitem", "PyDict_DelItem", 0, CORE, "dict deletes", "op key"},
    {"dict_pop", "dict_pop", 0, CORE, "dict pops", "self args"},
    {"dict_popitem", "dict_popitem", 0, CORE, "dict pops", "self"},
    {"dict_clear", "PyDict_Clear", 0, CORE, "dict clears", "op"},
    {"dict_setdefault", "PyDict_SetDefault", 0, CORE, "dict setdefault", "d key defaultobj"},
    {"dict_merge", "dict_merge", 0, CORE, "dict updates", "a b"},
    {"dict_lookup", "_Py_dict_lookup", 0, CORE, "dict reads", "mp key hash"},
    {"dict_contains", "PyDict_Contains", 0, CORE, "dict reads", "op key"},
    {"dict_get", "dict_get", 0, CORE, "dict reads", "self args"},
    {"dict_iterate", "dict_iter", 0, CORE, "dict iteration", "dict|self"},
    {"dict_iterate", "PyDict_Copy", 0, CORE, "dict iteration", "o"},
    {"dictview_iterate", "dictkeys_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dictview_iterate", "dictitems_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dictview_iterate", "dictvalues_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dict_dealloc", "dict_dealloc", 0, CORE, "dict lifetime", "mp|self"},
    {"registry_remove", "_PyDict_DelItemIf", 0, CORE, "weak registries", "op key"},
    {"module_init_dict", "module_init_dict", 0, CORE, "module namespaces", "mod md_dict"},
    {"lock_acquire_entry", "lock_PyThread_acquire_lock", 0, CORE, "Lock", "self|op"},
    {"lock_acquire_return", "lock_PyThread_acquire_lock", 1, CORE, "Lock", NULL},
    {"lock_release", "lock_PyThread_release_lock", 0, CORE, "Lock", "self|op"},
    {"lock_acquire_entry", "rlock_acquire", 0, CORE, "RLock", "self|op"},
    {"lock_acquire_return", "rlock_acquire", 1, CORE, "RLock", NULL},
    {"lock_release", "rlock_release", 0, CORE, "RLock", "self|op"},
    {"lock_release", "rlock_release_save", 0, CORE, "Condition on RLock", "self|op"},
    {"lock_acquire_entry", "rlock_acquire_restore", 0, CORE, "Condition on RLock", "self|op"},
    {"lock_restore_return", "rlock_acquire_restore", 1, CORE, "Condition on RLock", NULL},
    {"lock_dealloc", "lock_dealloc", 0, CORE, "lock lifetime", "self|op"},
    {"lock_dealloc", "rlock_dealloc", 0, CORE, "lock lifetime", "self|op"},
    {"lock_new_entry", "thread_PyThread_allocate_lock", 0, CORE, "lock creation", NULL},
    {"lock_new_return", "thread_PyThread_allocate_lock", 1, CORE, "lock creation", NULL},
    {"lock_new_entry", "rlock_new", 0, CORE, "lock creation", NULL},
    {"lock_new_return", "rlock_new", 1, CORE, "lock creation", NULL},
    {"thread_spawn", "PyThread_start_new_thread", 0, CORE, "thread start", "func arg"},
    {"thread_begin", "thread_run", 0, CORE, "thread start", "boot_raw"},
    {"thread_exit", "release_sentinel", 0, CORE, "thread join", "wr_raw"},
    {"code_dealloc", "code_dealloc", 0, CORE, "code object lifetime", "co|self"},
    {"finalize", "Py_FinalizeEx", 0, CORE, "interpreter shutdown", NULL},
    {"queue_put", "_queue_SimpleQueue_put", 0, QUEUE, "SimpleQueue", "self args"},
    {"queue_put", "_queue_SimpleQueue_put_nowait", 0, QUEUE, "SimpleQueue", "self args"},
    {"queue_get_entry", "_queue_SimpleQueue_get", 0, QUEUE, "SimpleQueue", "self"},
    {"queue_get_return", "_queue_SimpleQueue_get", 1, QUEUE, "SimpleQueue", NULL},
    {"queue_get_entry", "_queue_SimpleQueue_get_nowait", 0, QUEUE, "SimpleQueue", "self"},
    {"queue_get_return", "_queue_SimpleQueue_get_nowait", 1, QUEUE, "SimpleQueue", NULL},
    /* Lists and sets bound to globals: the functions that fired once per operation in a warm
     * loop on Debian's 3.11.2 and pyenv's 3.11.7 (docs/interpreters.md §6). */
    {"list_write", "list_append", 0, CORE, "list writes", "self"},
    /* a specialised L.append(x) calls out only when the list must grow: Debian inlines
     * _PyList_AppendTakeRefListResize and calls list_resize, pyenv inlines list_resize */
    {"list_write", "list_resize", 0, CORE, "list writes", "self"},
    {"list_write", "_PyList_AppendTakeRefListResize", 0, CORE, "list writes", "self"},
    {"list_extend", "list_extend", 0, CORE, "list writes", "self iterable"},
    {"list_write", "list_insert", 0, CORE, "list writes", "self"},
    {"list_write", "list_pop", 0, CORE, "list writes", "self"},
    {"list_write", "list_remove", 0, CORE, "list writes", "self"},
    {"list_write", "list_clear", 0, CORE, "list writes", "self"},
    {"list_write", "list_ass_subscript", 0, CORE, "list writes", "self"},
    {"list_write", "list_sort_impl", 0, CORE, "list writes", "self"},
    {"list_write", "list_reverse", 0, CORE, "list writes", "self"},
    {"list_read", "list_subscript", 0, CORE, "list reads", "self"},
    {"list_read", "list_iter", 0, CORE, "list reads", "seq"},
    {"list_read", "list_contains", 0, CORE, "list reads", "a"},
    {"list_read", "list_index", 0, CORE, "list reads", "self"},
    {"list_read", "list_count", 0, CORE, "list reads", "self"},
    {"list_read", "list_copy", 0, CORE, "list reads", "self"},
    {"list_read", "PyList_AsTuple", 0, CORE, "list reads", "v"},
    {"dict_dealloc", "list_dealloc", 0, CORE, "list lifetime", "op|self"},
    {"set_add", "set_add", 0, CORE, "set writes", "so key"},
    {"set_discard", "set_discard", 0, CORE, "set writes", "so key"},
    {"set_discard", "set_remove", 0, CORE, "set writes", "so key"},
    {"set_pop", "set_pop", 0, CORE, "set writes", "so"},
    {"set_clear", "set_clear_internal", 0, CORE, "set writes", "so"},
    {"set_update", "set_update_internal", 0, CORE, "set writes", "so other"},
    {"set_contains", "set_contains", 0, CORE, "set reads", "so key"},
    {"set_iterate", "set_iter", 0, CORE, "set reads", "so"},
    {"dict_dealloc", "set_dealloc", 0, CORE, "set lifetime", "so"},
};
const size_t probe_spec_count = sizeof(probe_specs) / sizeof(probe_specs[0]);

/* 3.13: the per-operation functions measured in docs/interpreters.md §1. */
static const struct probe_spec specs_313[] = {
    {"insertdict", "insertdict", 0, CORE, "dict writes", "mp key hash value"},
    {"insert_to_emptydict", "insert_to_emptydict", 0, CORE, "dict writes", "mp key hash value"},
    {"dict_delitem", "PyDict_DelItem", 0, CORE, "dict deletes", "op key"},
    /* DELETE_GLOBAL: PyDict_Pop does not fire for it */
    {"dict_pop_held", "pop_lock_held", 0, CORE, "dict deletes", "op key"},
    {"dict_pop", "dict_pop", 0, CORE, "dict pops", "self args"},
    {"dict_popitem", "dict_popitem", 0, CORE, "dict pops", "self"},
    /* PyDict_Clear is a stub only C callers use */
    {"dict_clear", "clear_lock_held", 0, CORE, "dict clears", "op"},
    {"dict_setdefault_args", "dict_setdefault", 0, CORE, "dict setdefault", "self args"},
    {"dict_merge", "dict_merge", 0, CORE, "dict updates", "a b"},
    {"dict_lookup", "_Py_dict_lookup", 0, CORE, "dict reads", "mp key hash"},
    {"dict_get", "dict_get", 0, CORE, "dict reads", "self args"},
    {"dict_iterate", "dict_iter", 0, CORE, "dict iteration", "dict|self"},
    {"dict_iterate", "PyDict_Copy", 0, CORE, "dict iteration", "o"},
    {"dictview_iterate", "dictkeys_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dictview_iterate", "dictitems_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dictview_iterate", "dictvalues_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dict_dealloc", "dict_dealloc", 0, CORE, "dict lifetime", "mp|self"},
    {"registry_remove", "_PyDict_DelItemIf", 0, CORE, "weak registries", "op key"},
    {"module_init_dict", "module_init_dict", 0, CORE, "module namespaces", "mod md_dict"},
    {"lock_acquire_entry", "lock_PyThread_acquire_lock", 0, CORE, "Lock", "self|op"},
    {"lock_acquire_return", "lock_PyThread_acquire_lock", 1, CORE, "Lock", NULL},
    {"lock_release", "lock_PyThread_release_lock", 0, CORE, "Lock", "self|op"},
    {"lock_acquire_entry", "rlock_acquire", 0, CORE, "RLock", "self|op"},
    {"lock_acquire_return", "rlock_acquire", 1, CORE, "RLock", NULL},
    {"lock_release", "rlock_release", 0, CORE, "RLock", "self|op"},
    {"lock_release", "rlock_release_save", 0, CORE, "Condition on RLock", "self|op"},
    {"lock_acquire_entry", "rlock_acquire_restore", 0, CORE, "Condition on RLock", "self|op"},
    {"lock_restore_return", "rlock_acquire_restore", 1, CORE, "Condition on RLock", NULL},
    {"lock_dealloc", "lock_dealloc", 0, CORE, "lock lifetime", "self|op"},
    {"lock_dealloc", "rlock_dealloc", 0, CORE, "lock lifetime", "self|op"},
    /* threading never calls PyThread_start_new_thread any more */
    {"thread_spawn", "PyThread_start_joinable_thread", 0, CORE, "thread start", "func arg"},
    {"thread_begin", "thread_run", 0, CORE, "thread start", "boot_raw"},
    /* release_sentinel is gone: a thread's end is its handle leaving the shutdown list */
    {"thread_end", "remove_from_shutdown_handles", 0, CORE, "thread join", "handle"},
    {"thread_join_entry", "ThreadHandle_join", 0, CORE, "thread join", "self timeout_ns"},
    {"thread_join_return", "ThreadHandle_join", 1, CORE, "thread join", NULL},
    {"code_dealloc", "code_dealloc", 0, CORE, "code object lifetime", "co|self"},
    /* Py_FinalizeEx misses sys.exit(n) on 3.13; its callee never does */
    {"finalize", "_Py_Finalize", 0, CORE, "interpreter shutdown", NULL},
    {"queue_put", "_queue_SimpleQueue_put", 0, QUEUE, "SimpleQueue", "self args"},
    {"queue_put", "_queue_SimpleQueue_put_nowait", 0, QUEUE, "SimpleQueue", "self args"},
    {"queue_get_entry", "_queue_SimpleQueue_get", 0, QUEUE, "SimpleQueue", "self"},
    {"queue_get_return", "_queue_SimpleQueue_get", 1, QUEUE, "SimpleQueue", NULL},
    {"queue_get_entry", "_queue_SimpleQueue_get_nowait", 0, QUEUE, "SimpleQueue", "self"},
    {"queue_get_return", "_queue_SimpleQueue_get_nowait", 1, QUEUE, "SimpleQueue", NULL},
    /* Lists and sets bound to globals: the functions that fired once per operation in a warm
     * loop (docs/interpreters.md §11). */
    {"list_write", "list_append", 0, CORE, "list writes", "self"},
    /* a warm L.append(x) calls out only when the list must grow */
    {"list_write", "list_resize", 0, CORE, "list writes", "self"},
    {"list_extend", "list_extend", 0, CORE, "list writes", "self iterable"},
    {"list_extend", "list_inplace_concat", 0, CORE, "list writes", "_self|self other"},
    {"list_write", "list_insert", 0, CORE, "list writes", "self"},
    {"list_write", "list_pop", 0, CORE, "list writes", "self"},
    {"list_write", "list_remove", 0, CORE, "list writes", "self"},
    {"list_write", "list_clear_impl", 0, CORE, "list writes", "a|self"},
    {"list_write", "list_ass_subscript", 0, CORE, "list writes", "self|_self"},
    {"list_write", "list_sort_impl", 0, CORE, "list writes", "self"},
    {"list_write", "list_reverse", 0, CORE, "list writes", "self"},
    {"list_read", "list_subscript", 0, CORE, "list reads", "_self|self"},
    {"list_read", "list_slice_lock_held", 0, CORE, "list reads", "a"},
    {"list_read", "list_iter", 0, CORE, "list reads", "seq"},
    {"list_read", "list_contains", 0, CORE, "list reads", "aa|a"},
    {"list_read", "list_index", 0, CORE, "list reads", "self"},
    {"list_read", "list_count", 0, CORE, "list reads", "self"},
    {"list_read", "list_copy", 0, CORE, "list reads", "self"},
    {"list_read", "PyList_AsTuple", 0, CORE, "list reads", "v"},
    {"dict_dealloc", "list_dealloc", 0, CORE, "list lifetime", "self|op"},
    {"set_add", "set_add", 0, CORE, "set writes", "so|self key"},
    {"set_discard", "set_discard", 0, CORE, "set writes", "so|self key"},
    {"set_discard", "set_remove", 0, CORE, "set writes", "so|self key"},
    {"set_pop", "set_pop", 0, CORE, "set writes", "so|self"},
    {"set_clear", "set_clear_internal", 0, CORE, "set writes", "so|self"},
    {"set_update", "set_update_internal", 0, CORE, "set writes", "so other"},
    {"set_update", "set_merge_lock_held", 0, CORE, "set writes", "so otherset"},
    {"set_contains", "_PySet_Contains", 0, CORE, "set reads", "so key"},
    {"set_iterate", "set_iter", 0, CORE, "set reads", "so|self"},
    {"dict_dealloc", "set_dealloc", 0, CORE, "set lifetime", "so|self"},
};

/* 3.13t (free-threaded, built by tests/interpreters/setup.sh with -O2, no LTO/PGO): the 3.13
 * functions, measured per operation in docs/interpreters.md §10. Reads go through the lock-free
 * lookup, and every LOAD_GLOBAL too (3.13t does not specialise). */
static const struct probe_spec specs_313t[] = {
    {"insertdict", "insertdict", 0, CORE, "dict writes", "mp key hash value"},
    {"insert_to_emptydict", "insert_to_emptydict", 0, CORE, "dict writes", "mp key hash value"},
    /* `del D[k]` runs a copy inlined into dict_ass_sub (probed through inlines_313t) */
    {"dict_delitem", "PyDict_DelItem", 0, CORE, "dict deletes", "op key"},
    /* DELETE_GLOBAL and dict.pop: pop_lock_held is inlined into it */
    {"dict_pop_held", "PyDict_Pop", 0, CORE, "dict deletes", "op key"},
    {"dict_pop", "dict_pop", 0, CORE, "dict pops", "self args"},
    {"dict_popitem", "dict_popitem", 0, CORE, "dict pops", "self"},
    {"dict_clear", "clear_lock_held", 0, CORE, "dict clears", "op"},
    {"dict_setdefault_args", "dict_setdefault", 0, CORE, "dict setdefault", "self args"},
    {"dict_merge", "dict_merge", 0, CORE, "dict updates", "a b"},
    /* the lookup writes make under the dict's lock */
    {"dict_lookup", "_Py_dict_lookup", 0, CORE, "dict reads", "mp key hash"},
    /* D[k], D.get(k), k in D, LOAD_GLOBAL: without the dict's lock */
    {"dict_lookup", "_Py_dict_lookup_threadsafe", 0, CORE, "dict reads", "mp key hash"},
    {"dict_get", "dict_get", 0, CORE, "dict reads", "self args"},
    {"dict_iterate", "dict_iter", 0, CORE, "dict iteration", "dict|self"},
    {"dict_iterate", "PyDict_Copy", 0, CORE, "dict iteration", "o"},
    {"dictview_iterate", "dictkeys_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dictview_iterate", "dictitems_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dictview_iterate", "dictvalues_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dict_dealloc", "dict_dealloc", 0, CORE, "dict lifetime", "mp|self"},
    {"registry_remove", "_PyDict_DelItemIf", 0, CORE, "weak registries", "op key"},
    {"module_init_dict", "module_init_dict", 0, CORE, "module namespaces", "mod md_dict"},
    {"lock_acquire_entry", "lock_PyThread_acquire_lock", 0, CORE, "Lock", "self|op"},
    {"lock_acquire_return", "lock_PyThread_acquire_lock", 1, CORE, "Lock", NULL},
    {"lock_release", "lock_PyThread_release_lock", 0, CORE, "Lock", "self|op"},
    {"lock_acquire_entry", "rlock_acquire", 0, CORE, "RLock", "self|op"},
    {"lock_acquire_return", "rlock_acquire", 1, CORE, "RLock", NULL},
    {"lock_release", "rlock_release", 0, CORE, "RLock", "self|op"},
    {"lock_release", "rlock_release_save", 0, CORE, "Condition on RLock", "self|op"},
    {"lock_acquire_entry", "rlock_acquire_restore", 0, CORE, "Condition on RLock", "self|op"},
    {"lock_restore_return", "rlock_acquire_restore", 1, CORE, "Condition on RLock", NULL},
    {"lock_dealloc", "lock_dealloc", 0, CORE, "lock lifetime", "self|op"},
    {"lock_dealloc", "rlock_dealloc", 0, CORE, "lock lifetime", "self|op"},
    {"thread_spawn", "PyThread_start_joinable_thread", 0, CORE, "thread start", "func arg"},
    {"thread_begin", "thread_run", 0, CORE, "thread start", "boot_raw"},
    /* remove_from_shutdown_handles is inlined everywhere (in thread_run too, which is probed
     * for another event): the thread's end is the notification of its thread_is_exiting
     * event, which the join waits for */
    {"thread_exiting", "_PyEvent_Notify", 0, CORE, "thread join", "evt"},
    {"thread_join_entry", "ThreadHandle_join", 0, CORE, "thread join", "self timeout_ns"},
    {"thread_join_return", "ThreadHandle_join", 1, CORE, "thread join", NULL},
    {"code_dealloc", "code_dealloc", 0, CORE, "code object lifetime", "co|self"},
    /* Py_FinalizeEx, Py_Finalize and Py_Exit (sys.exit) all reach it */
    {"finalize", "_Py_Finalize", 0, CORE, "interpreter shutdown", NULL},
    {"queue_put", "_queue_SimpleQueue_put", 0, QUEUE, "SimpleQueue", "self args"},
    {"queue_put", "_queue_SimpleQueue_put_nowait", 0, QUEUE, "SimpleQueue", "self args"},
    {"queue_get_entry", "_queue_SimpleQueue_get", 0, QUEUE, "SimpleQueue", "self"},
    {"queue_get_return", "_queue_SimpleQueue_get", 1, QUEUE, "SimpleQueue", NULL},
    {"queue_get_entry", "_queue_SimpleQueue_get_nowait", 0, QUEUE, "SimpleQueue", "self"},
    {"queue_get_return", "_queue_SimpleQueue_get_nowait", 1, QUEUE, "SimpleQueue", NULL},
    /* Lists and sets bound to globals (docs/interpreters.md §10, "Lists and sets"): 3.13t does
     * not specialise, so every L.append(x), L[i] and L[i] = v calls out */
    {"list_write", "list_append", 0, CORE, "list writes", "self"},
    /* extend, +=, list(L), [*L], sorted(L): the writer and the list read */
    {"list_extend", "list_extend_lock_held", 0, CORE, "list writes", "self iterable"},
    {"list_write", "list_insert", 0, CORE, "list writes", "self"},
    {"list_write", "list_pop", 0, CORE, "list writes", "self"},
    {"list_write", "list_remove", 0, CORE, "list writes", "self"},
    {"list_write", "list_clear_impl", 0, CORE, "list writes", "self|a"},
    {"list_write", "list_ass_subscript", 0, CORE, "list writes", "_self|self"},
    {"list_write", "list_sort_impl", 0, CORE, "list writes", "self"},
    {"list_write", "list_reverse", 0, CORE, "list writes", "self"},
    {"list_read", "list_subscript", 0, CORE, "list reads", "_self|self"},
    {"list_read", "list_slice_lock_held", 0, CORE, "list reads", "a"},
    {"list_read", "list_iter", 0, CORE, "list reads", "seq"},
    {"list_read", "list_contains", 0, CORE, "list reads", "aa|a"},
    {"list_read", "list_index", 0, CORE, "list reads", "self"},
    {"list_read", "list_count", 0, CORE, "list reads", "self"},
    {"list_read", "PyList_AsTuple", 0, CORE, "list reads", "v"},
    {"dict_dealloc", "list_dealloc", 0, CORE, "list lifetime", "self|op"},
    {"set_add", "set_add", 0, CORE, "set writes", "so|self key"},
    {"set_discard", "set_discard", 0, CORE, "set writes", "so|self key"},
    {"set_discard", "set_remove", 0, CORE, "set writes", "so|self key"},
    {"set_pop", "set_pop", 0, CORE, "set writes", "so|self"},
    {"set_clear", "set_clear_internal", 0, CORE, "set writes", "so|self"},
    {"set_update", "set_update_internal", 0, CORE, "set writes", "so other"},
    {"set_update", "set_merge_lock_held", 0, CORE, "set writes", "so otherset"},
    {"set_contains", "_PySet_Contains", 0, CORE, "set reads", "so key"},
    {"set_iterate", "set_iter", 0, CORE, "set reads", "so|self"},
    {"dict_dealloc", "set_dealloc", 0, CORE, "set lifetime", "so|self"},
};

/* 3.14: the same functions by name (docs/interpreters.md §1, §10). */
static const struct probe_spec specs_314[] = {
    {"insertdict", "insertdict", 0, CORE, "dict writes", "mp key hash value"},
    {"insert_to_emptydict", "insert_to_emptydict", 0, CORE, "dict writes", "mp key hash value"},
    {"dict_delitem", "PyDict_DelItem", 0, CORE, "dict deletes", "op key"},
    /* DELETE_GLOBAL: PyDict_Pop does not fire for it */
    {"dict_delitem", "pop_lock_held", 0, CORE, "dict deletes", "op key"},
    {"dict_pop", "dict_pop", 0, CORE, "dict pops", "self args"},
    {"dict_popitem", "dict_popitem", 0, CORE, "dict pops", "self"},
    /* PyDict_Clear is a stub only C callers use */
    {"dict_clear", "clear_lock_held", 0, CORE, "dict clears", "op"},
    {"dict_setdefault", "dict_setdefault", 0, CORE, "dict setdefault", "self args"},
    /* dict_merge only reaches it for non-dict sources */
    {"dict_merge", "dict_dict_merge", 0, CORE, "dict updates", "mp other"},
    {"dict_lookup", "_Py_dict_lookup", 0, CORE, "dict reads", "mp key hash"},
    {"dict_get", "dict_get", 0, CORE, "dict reads", "self args"},
    {"dict_iterate", "dict_iter", 0, CORE, "dict iteration", "dict|self"},
    {"dict_iterate", "PyDict_Copy", 0, CORE, "dict iteration", "o"},
    {"dictview_iterate", "dictkeys_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dictview_iterate", "dictitems_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dictview_iterate", "dictvalues_iter", 0, CORE, "dict iteration", "dv|self"},
    {"dict_dealloc", "dict_dealloc", 0, CORE, "dict lifetime", "mp|self"},
    {"registry_remove", "_PyDict_DelItemIf", 0, CORE, "weak registries", "op key"},
    {"module_init_dict", "module_init_dict", 0, CORE, "module namespaces", "mod md_dict"},
    {"lock_acquire_entry", "lock_PyThread_acquire_lock", 0, CORE, "Lock", "self|op"},
    {"lock_acquire_return", "lock_PyThread_acquire_lock", 1, CORE, "Lock", NULL},
    {"lock_release", "lock_PyThread_release_lock", 0, CORE, "Lock", "self|op"},
    {"lock_acquire_entry", "rlock_acquire", 0, CORE, "RLock", "self|op"},
    {"lock_acquire_return", "rlock_acquire", 1, CORE, "RLock", NULL},
    {"lock_release", "rlock_release", 0, CORE, "RLock", "self|op"},
    {"lock_release", "rlock_release_save", 0, CORE, "Condition on RLock", "self|op"},
    {"lock_acquire_entry", "rlock_acquire_restore", 0, CORE, "Condition on RLock", "self|op"},
    {"lock_restore_return", "rlock_acquire_restore", 1, CORE, "Condition on RLock", NULL},
    {"lock_dealloc", "lock_dealloc", 0, CORE, "lock lifetime", "self|op"},
    {"lock_dealloc", "rlock_dealloc", 0, CORE, "lock lifetime", "self|op"},
    /* threading never calls PyThread_start_new_thread any more */
    {"thread_spawn", "PyThread_start_joinable_thread", 0, CORE, "thread start", "func arg"},
    {"thread_begin", "thread_run", 0, CORE, "thread start", "boot_raw"},
    /* release_sentinel is gone: a thread's end is its handle leaving the shutdown list */
    {"thread_end", "remove_from_shutdown_handles", 0, CORE, "thread join", "handle"},
    {"thread_join_entry", "ThreadHandle_join", 0, CORE, "thread join", "self timeout_ns"},
    {"thread_join_return", "ThreadHandle_join", 1, CORE, "thread join", NULL},
    {"code_dealloc", "code_dealloc", 0, CORE, "code object lifetime", "co|self"},
    /* Py_FinalizeEx misses sys.exit(n) on 3.13; its callee never does */
    {"finalize", "_Py_Finalize", 0, CORE, "interpreter shutdown", NULL},
    {"queue_put", "_queue_SimpleQueue_put", 0, QUEUE, "SimpleQueue", "self args"},
    {"queue_put", "_queue_SimpleQueue_put_nowait", 0, QUEUE, "SimpleQueue", "self args"},
    {"queue_get_entry", "_queue_SimpleQueue_get", 0, QUEUE, "SimpleQueue", "self"},
    {"queue_get_return", "_queue_SimpleQueue_get", 1, QUEUE, "SimpleQueue", NULL},
    {"queue_get_entry", "_queue_SimpleQueue_get_nowait", 0, QUEUE, "SimpleQueue", "self"},
    {"queue_get_return", "_queue_SimpleQueue_get_nowait", 1, QUEUE, "SimpleQueue", NULL},
    /* Lists and sets bound to globals: the functions that fired once per operation in a warm
     * loop (docs/interpreters.md §11); 3.14 renamed some parameters (_self, aa, self). */
    {"list_write", "list_append", 0, CORE, "list writes", "self"},
    /* a warm L.append(x) calls out only when the list must grow: its eval-loop copies */
    {"list_write", "_PyList_AppendTakeRefListResize", 0, CORE, "list writes", "self"},
    /* extend, +=, list(L), [*L], sorted(L): the writer and the list read */
    {"list_extend", "list_extend_lock_held", 0, CORE, "list writes", "self iterable"},
    {"list_write", "list_insert", 0, CORE, "list writes", "self"},
    {"list_write", "list_pop", 0, CORE, "list writes", "self"},
    {"list_write", "list_remove", 0, CORE, "list writes", "self"},
    {"list_write", "list_clear_impl", 0, CORE, "list writes", "a|self"},
    {"list_write", "list_ass_subscript", 0, CORE, "list writes", "self|_self"},
    {"list_write", "list_sort_impl", 0, CORE, "list writes", "self"},
    {"list_write", "list_reverse", 0, CORE, "list writes", "self"},
    {"list_read", "list_subscript", 0, CORE, "list reads", "_self|self"},
    /* L[a:b] and L.copy() */
    {"list_read", "list_slice_lock_held", 0, CORE, "list reads", "a"},
    {"list_read", "list_iter", 0, CORE, "list reads", "seq"},
    {"list_read", "list_contains", 0, CORE, "list reads", "aa|a"},
    {"list_read", "list_index", 0, CORE, "list reads", "self"},
    {"list_read", "list_count", 0, CORE, "list reads", "self"},
    /* tuple(L): its copy in PySequence_Tuple */
    {"list_read", "PyList_AsTuple", 0, CORE, "list reads", "v"},
    {"dict_dealloc", "list_dealloc", 0, CORE, "list lifetime", "self|op"},
    {"set_add", "set_add", 0, CORE, "set writes", "so|self key"},
    {"set_discard", "set_discard", 0, CORE, "set writes", "so|self key"},
    {"set_discard", "set_remove", 0, CORE, "set writes", "so|self key"},
    {"set_pop", "set_pop", 0, CORE, "set writes", "so|self"},
    {"set_clear", "set_clear_internal", 0, CORE, "set writes", "self|so"},
    /* S.update(o); set(S) reads S in set_update_local; S.copy() and S | T in
     * set_merge_lock_held */
    {"set_update", "set_update_internal", 0, CORE, "set writes", "so other"},
    {"set_update", "set_update_local", 0, CORE, "set writes", "so other"},
    {"set_update", "set_merge_lock_held", 0, CORE, "set writes", "so otherset"},
    /* x in S, x not in S (CONTAINS_OP_SET) */
    {"set_contains", "_PySet_Contains", 0, CORE, "set reads", "so key"},
    {"set_iterate", "set_iter", 0, CORE, "set reads", "so|self"},
    {"dict_dealloc", "set_dealloc", 0, CORE, "set lifetime", "self|so"},
};

/* Each of these is inlined in one of the two 3.11 builds measured, the other seen there. */
static const char *const optional_functions[] = {"list_resize", "_PyList_AppendTakeRefListResize"};

int probe_spec_optional(const struct probe_spec *spec)
{
	for (size_t i = 0; i < sizeof(optional_functions) / sizeof(optional_functions[0]); i++)
		if (strcmp(spec->function, optional_functions[i]) == 0)
			return 1;
	return 0;
}

/* Measured on Debian's 3.11.2 and pyenv's 3.11.7: hits per operation in a warm loop. */
static const struct unseen_op unseen_311[] = {
    {"list writes", "L.append(x)",
     "specialised (PRECALL_NO_KW_LIST_APPEND inlines the append): seen only while unspecialised "
     "and when the list grows"},
    {"list writes", "L[i] = v",
     "specialised (STORE_SUBSCR_LIST_INT) for an int index 0 <= i < len(L): not seen; negative "
     "indices, slices and del L[i] are"},
    {"list reads", "L[i]",
     "specialised (BINARY_SUBSCR_LIST_INT) for an int index 0 <= i < len(L): not seen; negative "
     "indices and slices are"},
    {"list reads", "len(L), len(S)",
     "list_length and set_len start with a mov, which a uprobe single-steps (~9 us on every "
     "len() of any list or set): not probed"},
    {"list reads", "next() of an iterator",
     "listiter_next / setiter_iternext fire once per element: only the iterator's creation "
     "(iter(L), for x in L) is the read"},
    {"dict reads", "LOAD_GLOBAL",
     "specialised (LOAD_GLOBAL_MODULE): a global read is seen only before its code is "
     "specialised"},
};

/* Measured on Debian's 3.13.5 and 3.14.10 the same way (docs/interpreters.md §11). */
static const struct unseen_op unseen_313[] = {
    {"list writes", "L.append(x)",
     "specialised (CALL_LIST_APPEND appends inline): seen only while unspecialised and when "
     "the list grows (list_resize)"},
    {"list writes", "L[i] = v",
     "specialised (STORE_SUBSCR_LIST_INT) for an int index 0 <= i < len(L): not seen; negative "
     "indices, slices and del L[i] are"},
    {"list reads", "L[i]",
     "specialised (BINARY_SUBSCR_LIST_INT) for an int index 0 <= i < len(L): not seen; negative "
     "indices and slices are"},
    {"list reads", "list(L), [*L]",
     "the copy is made inside list_vectorcall and the eval loop, where no probed function or "
     "copy holds the list: not seen (sorted(L), L.copy(), L[:] are)"},
    {"list reads", "len(L), len(S)",
     "list_length and set_len are not probed: a uprobe on every len() of any list or set "
     "costs more than it shows"},
    {"list reads", "next() of an iterator",
     "listiter_next / setiter_iternext fire once per element: only the iterator's creation "
     "(iter(L), for x in L) is the read"},
    {"dict reads", "LOAD_GLOBAL",
     "specialised (LOAD_GLOBAL_MODULE) on its second execution: a global read is seen once "
     "per instruction"},
};

static const struct unseen_op unseen_314[] = {
    {"list writes", "L.append(x)",
     "specialised (CALL_LIST_APPEND appends inline): seen only while unspecialised and when "
     "the list grows (the eval loop's copies of _PyList_AppendTakeRefListResize)"},
    {"list writes", "L[i] = v",
     "specialised (STORE_SUBSCR_LIST_INT) for an int index 0 <= i < len(L): not seen; negative "
     "indices, slices and del L[i] are"},
    {"list reads", "L[i]",
     "specialised (BINARY_OP_SUBSCR_LIST_INT) for an int index 0 <= i < len(L): not seen; "
     "negative indices and slices are"},
    {"list reads", "len(L), len(S)",
     "list_length and set_len are not probed: a uprobe on every len() of any list or set "
     "costs more than it shows"},
    {"list reads", "next() of an iterator",
     "listiter_next / setiter_iternext fire once per element: only the iterator's creation "
     "(iter(L), for x in L) is the read"},
    {"dict reads", "LOAD_GLOBAL",
     "specialised (LOAD_GLOBAL_MODULE) on its second execution: a global read is seen once "
     "per instruction"},
};

/* 3.13t specialises nothing: L.append(x), L[i], L[i] = v and every LOAD_GLOBAL call out
 * (docs/interpreters.md §10, "Lists and sets") */
static const struct unseen_op unseen_313t[] = {
    {"list reads", "len(L), len(S)",
     "list_length and set_len are not probed: a uprobe on every len() of any list or set "
     "costs more than it shows"},
    {"list reads", "next() of an iterator",
     "listiter_next / setiter_iternext fire once per element: only the iterator's creation "
     "(iter(L), for x in L) is the read"},
};

const struct unseen_op *unseen_ops_for_build(unsigned major, unsigned minor, int free_threaded,
					     size_t *count)
{
	if (free_threaded && major == 3 && minor == 13) {
		*count = sizeof(unseen_313t) / sizeof(unseen_313t[0]);
		return unseen_313t;
	}
	return unseen_ops_for(major, minor, count);
}

const struct unseen_op *unseen_ops_for(unsigned major, unsigned minor, size_t *count)
{
	if (major == 3 && minor == 11) {
		*count = sizeof(unseen_311) / sizeof(unseen_311[0]);
		return unseen_311;
	}
	if (major == 3 && minor == 13) {
		*count = sizeof(unseen_313) / sizeof(unseen_313[0]);
		return unseen_313;
	}
	if (major == 3 && minor == 14) {
		*count = sizeof(unseen_314) / sizeof(unseen_314[0]);
		return unseen_314;
	}
	*count = 0;
	return NULL;
}

static const struct inline_spec inlines_313[] = {
    /* PGO inlined it into method_vectorcall_VARARGS_KEYWORDS: every lock.acquire(...) call */
    {"lock_PyThread_acquire_lock", "lock_inline_entry", "lock_inline_exit", "result", NULL, NULL,
     NULL},
    /* inlined into _weakref._remove_dead_weakref, WeakValueDictionary's callback */
    {"_PyDict_DelItemIf", "registry_remove", NULL, NULL, NULL, NULL, NULL},
    /* list(L) (PySequence_List), sorted(L); [*L] (the eval loop's copy) loses its target */
    {"list_extend", "list_extend", NULL, NULL, NULL, NULL,
     "PySequence_List|builtin_sorted|_PyList_Extend"},
    /* tuple(L) */
    {"PyList_AsTuple", "list_read", NULL, NULL, NULL, NULL, "PySequence_Tuple"},
    /* x in S, x not in S (CONTAINS_OP_SET) */
    {"_PySet_Contains", "set_contains", NULL, NULL, NULL, NULL, "_PyEval_EvalFrameDefault"},
    /* S |= T: set_ior promoted into the in-place number protocol */
    {"set_update_internal", "set_update", NULL, NULL, NULL, NULL,
     "binary_iop|PyNumber_InPlace|PySequence_InPlaceConcat"},
};

/* docs/interpreters.md §10 */
static const struct inline_spec inlines_314[] = {
    /* PGO inlined it into cfunction_call, where `lock.__exit__(*args)` (Condition.__exit__)
     * goes; its `self` is optimised out there, the called method object `func` is not */
    {"lock_PyThread_release_lock", "lock_release", NULL, NULL, "func", "lock_release_bound", NULL},
    /* PGO inlined it into method_vectorcall_FASTCALL: each D.get() call site's first,
     * unspecialised execution; its args are the caller's args + 1 */
    {"dict_get", "dict_get", NULL, NULL, NULL, NULL, NULL},
    /* inlined into _weakref._remove_dead_weakref, WeakValueDictionary's callback */
    {"_PyDict_DelItemIf", "registry_remove", NULL, NULL, NULL, NULL, NULL},
    /* the growth of a warm L.append(x) (CALL_LIST_APPEND) happens in the eval loop's copies */
    {"_PyList_AppendTakeRefListResize", "list_write", NULL, NULL, NULL, NULL,
     "_PyEval_EvalFrameDefault"},
    /* tuple(L) */
    {"PyList_AsTuple", "list_read", NULL, NULL, NULL, NULL, "PySequence_Tuple"},
    /* S |= T: set_ior promoted into the in-place number protocol, its set optimised out
     * there but not in the set_update_internal it inlines */
    {"set_update_internal", "set_update", NULL, NULL, NULL, NULL,
     "binary_iop|PyNumber_InPlace|PySequence_InPlaceConcat"},
};

/* 3.13t: GCC -O2 inlines these where no other probe sees them */
static const struct inline_spec inlines_313t[] = {
    /* into dict_ass_sub: every `del D[k]` */
    {"PyDict_DelItem", "dict_delitem", NULL, NULL, NULL, NULL, NULL},
    {"_PyDict_DelItemIf", "registry_remove", NULL, NULL, NULL, NULL, NULL},
};

static const struct probe_table table_313t = {3,
					      13,
					      specs_313t,
					      sizeof(specs_313t) / sizeof(specs_313t[0]),
					      1,
					      inlines_313t,
					      sizeof(inlines_313t) / sizeof(inlines_313t[0])};

static const struct probe_table tables[] = {
    {3, 11, probe_specs, sizeof(probe_specs) / sizeof(probe_specs[0]), 0, NULL, 0},
    {3, 13, specs_313, sizeof(specs_313) / sizeof(specs_313[0]), 1, inlines_313,
     sizeof(inlines_313) / sizeof(inlines_313[0])},
    {3, 14, specs_314, sizeof(specs_314) / sizeof(specs_314[0]), 1, inlines_314,
     sizeof(inlines_314) / sizeof(inlines_314[0])},
};

const struct inline_spec *probe_table_inline(const struct probe_table *t, const char *function)
{
	for (size_t i = 0; t && i < t->ninlines; i++)
		if (strcmp(t->inlines[i].function, function) == 0)
			return &t->inlines[i];
	return NULL;
}

const struct probe_table *probe_table_for_build(unsigned major, unsigned minor, int free_threaded)
{
	if (free_threaded)
		return major == 3 && minor == 13 ? &table_313t : NULL;
	return probe_table_for(major, minor);
}

const struct probe_table *probe_table_for(unsigned major, unsigned minor)
{
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if (tables[i].major == major && tables[i].minor == minor)
			return &tables[i];
	return NULL;
}
