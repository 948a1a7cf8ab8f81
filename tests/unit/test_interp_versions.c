/* Inspects Debian's CPython 3.13 and 3.14 and the free-threaded 3.13t built from Debian's
 * sources (tests/interpreters/setup.sh chroots) and checks
 * what docs/interpreters.md measured: version, flavour, layout, clone names, argument
 * registers from DWARF, inlined copies. Skipped when the chroots have not been built. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_symbols.h"
#include "interp.h"
#include "probe_regs.h"

static char cache[PATH_MAX];

static int chroot_python(const char *suite, const char *binary, char *out, size_t len)
{
	const char *root = getenv("PYRACE_INTERP_CACHE");
	snprintf(cache, sizeof(cache), "%s", root ? root : "/var/cache/pyrace-interpreters");
	snprintf(out, len, "%s/%s/usr/bin/%s", cache, suite, binary);
	return access(out, X_OK) == 0;
}

#define NEED_CHROOT(suite, binary, path)                                                           \
	do {                                                                                       \
		if (!chroot_python(suite, binary, path, sizeof(path))) {                           \
			print_message("%s missing: run tests/interpreters/setup.sh\n", path);      \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

static const struct probe_point *point(const struct interp_info *in, const char *symbol)
{
	for (size_t i = 0; i < in->nprobes; i++)
		if (in->probes[i].found && !in->probes[i].spec->is_return &&
		    strcmp(in->probes[i].symbol, symbol) == 0)
			return &in->probes[i];
	fail_msg("no probe point on %s", symbol);
	return NULL;
}

static const char *where(const struct probe_point *p, const char *arg)
{
	for (size_t i = 0; i < p->nargs; i++)
		if (strcmp(p->args[i].name, arg) == 0)
			return p->args[i].where;
	fail_msg("%s: argument %s not listed", p->symbol, arg);
	return NULL;
}

/* The inlined copy of `function` inside `caller`, NULL when none was found. */
static const struct interp_inline_site *site_in(const struct interp_info *in, const char *function,
						const char *caller)
{
	for (size_t i = 0; i < in->ninlined; i++) {
		const struct interp_inline_site *s = &in->inlined[i];
		if (strcmp(in->probes[s->probe].spec->function, function) == 0 &&
		    strncmp(s->caller, caller, strlen(caller)) == 0)
			return s;
	}
	return NULL;
}

/* What pyrace run sees and what the doctor sees: the same verdict, `expect` (INTERP_OK for 3.13
 * and 3.14; a refused version resolves nothing for pyrace run), and for the doctor everything
 * else filled in. */
static void inspect_both(const char *python, struct interp_info *in, const char *minor,
			 enum interp_status expect_status)
{
	char why[1024] = "", why_all[1024] = "", expect[64];
	static struct interp_info quick;
	assert_int_equal(interp_inspect(python, NULL, "/usr/lib/debug", &quick, why, sizeof(why)),
			 expect_status);
	if (expect_status != INTERP_OK) {
		snprintf(expect, sizeof(expect), "CPython %s.", minor);
		assert_non_null(strstr(why, expect));
		assert_non_null(strstr(why, "is not supported yet (supported: 3.11, 3.13, 3.14)"));
		assert_null(strchr(why, '\n'));
		assert_int_equal(quick.nprobes, 0);
	}
	assert_int_equal(
	    interp_inspect_all(python, NULL, "/usr/lib/debug", in, why_all, sizeof(why_all)),
	    expect_status);
	if (expect_status != INTERP_OK)
		assert_string_equal(why, why_all);
	assert_string_equal(in->build, "release");
	assert_true(in->has_debug_offsets);
	assert_int_equal(in->free_threaded, 0);
	assert_int_equal(in->debug_offsets_version, in->version_hex);
	assert_non_null(in->table);
	/* found through the chroot's usr/lib/debug although the host's was given */
	assert_true(strncmp(in->debug_file, cache, strlen(cache)) == 0);
	assert_non_null(strstr(in->debug_file, "/usr/lib/debug/.build-id/"));
	assert_true(in->dwarf_units_walked > 0);
	for (size_t i = 0; i < in->nprobes; i++) {
		const struct probe_point *p = &in->probes[i];
		if (!p->found)
			fail_msg("%s not found", p->spec->function);
		/* every function there that may be called indirectly starts with endbr64 (3.14's
		 * list_extend_lock_held, called directly only, has none): return probes go right
		 * after it, entry probes there or on the first instruction of the entry block the
		 * kernel emulates (x86_insn.c), a few bytes on */
		uint64_t first = strcmp(p->symbol, "list_extend_lock_held") == 0 ? 0 : 4;
		if (p->kind == PROBE_FUNCTION &&
		    (p->spec->is_return ? p->vaddr != p->entry + 4
					: p->vaddr < p->entry + first || p->vaddr >= p->entry + 68))
			fail_msg("%s: probe at 0x%lx, function at 0x%lx", p->symbol,
				 (unsigned long)p->vaddr, (unsigned long)p->entry);
		/* a function's own point: never a fragment (an inlined copy may be in one) */
		if (p->kind == PROBE_FUNCTION) {
			assert_null(strstr(p->symbol, ".part."));
			assert_null(strstr(p->symbol, ".cold"));
		}
	}
}

static void test_313(void **state)
{
	(void)state;
	char python[PATH_MAX];
	NEED_CHROOT("trixie", "python3.13", python);
	static struct interp_info in;
	inspect_both(python, &in, "3.13", INTERP_OK);
	assert_int_equal(in.minor, 13);
	assert_int_equal(in.layout.frame_owner, 70);
	assert_int_equal(in.layout.frame_code, 0);
	assert_int_equal(in.layout.frame_previous, 8);
	assert_int_equal(in.layout.code_adaptive, 200);
	assert_int_equal(in.code.co_firstlineno, 68);
	assert_int_equal(in.layout.str_ascii_data, 40);
	assert_int_equal(in.code.runtime_main_interp, 640);
	assert_int_equal(in.code.interp_modules, 7656);
	assert_int_equal(in.threads.tstate_current_frame, 72);
	assert_int_equal(in.threads.tstate_native_thread_id, 160);
	assert_int_equal(in.threads.gil_holder, 7760);
	/* derived from PT_TLS and _Py_tss_tstate, checked against _PyThreadState_GetCurrent */
	assert_int_equal(in.threads.tls_tstate, -0x18);
	assert_int_equal(in.layout.tls_tstate, -0x18);
	assert_int_equal(in.layout.tstate_current_frame, 72);
	assert_true(in.layout.long_tagged);
	assert_int_equal(in.layout.handle_exiting, 57);
	assert_true(in.layout.code_type_addr != 0);

	const struct probe_point *p = point(&in, "insertdict.lto_priv.0");
	assert_string_equal(where(p, "mp"), "rsi"); /* interp comes first */
	assert_string_equal(where(p, "key"), "rdx");
	assert_string_equal(where(p, "value"), "r8");
	p = point(&in, "dict_merge.lto_priv.0");
	assert_string_equal(where(p, "a"), "rsi");
	point(&in, "pop_lock_held.lto_priv.0");
	point(&in, "clear_lock_held.lto_priv.0");
	point(&in, "_Py_Finalize.constprop.0");
	point(&in, "remove_from_shutdown_handles.lto_priv.0");
	assert_string_equal(point(&in, "PyThread_start_joinable_thread")->source, "dynsym");
	/* +4 is `sub $0x8,%rsp`, which the kernel single-steps: the probe moves to the je at +14,
	 * where DWARF still has self in rdi */
	p = point(&in, "lock_PyThread_release_lock.lto_priv.0");
	assert_int_equal(p->vaddr, p->entry + 14);
	assert_string_equal(where(p, "self"), "rdi");

	/* PGO inlined lock.acquire() into the method-call path (§5: +448..+628, lock in r12) */
	p = point(&in, "lock_PyThread_acquire_lock.lto_priv.0");
	assert_true(p->ninlined_uncovered >= 1);
	const struct interp_inline_site *s =
	    site_in(&in, "lock_PyThread_acquire_lock", "method_vectorcall_VARARGS_KEYWORDS");
	assert_non_null(s);
	assert_int_equal(s->caller_offset, 448);
	assert_true(s->high > s->entry_pc && s->high - s->entry_pc <= 628 - 448);
	assert_false(s->covered);
	assert_string_equal(s->args[0].name, "self");
	assert_string_equal(s->args[0].where, "r12");
	/* ... probed where it starts (lock in r12) and where the caller's result gets it (r15) */
	assert_true(s->traced);
	int entry = 0, exit = 0;
	for (size_t i = 0; i < in.nprobes; i++) {
		const struct probe_point *q = &in.probes[i];
		if (q->kind == PROBE_INLINE_ENTRY && q->vaddr == s->entry_pc &&
		    strcmp(probe_program(q), "lock_inline_entry") == 0) {
			entry = 1;
			assert_int_equal(q->regs[0], PYREG_R12);
		}
		if (q->kind == PROBE_INLINE_EXIT && q->vaddr == s->high) {
			exit = 1;
			assert_string_equal(probe_program(q), "lock_inline_exit");
			assert_string_equal(q->args[0].where, "r15");
			assert_int_equal(q->regs[0], PYREG_R15);
		}
	}
	assert_true(entry && exit);
	/* _PyDict_DelItemIf inlined into _weakref._remove_dead_weakref: the registry callback */
	s = site_in(&in, "_PyDict_DelItemIf", "_weakref__remove_dead_weakref");
	assert_non_null(s);
	assert_true(s->traced);
	/* insertdict's dict is its second argument: the program reads it from rsi */
	assert_int_equal(point(&in, "insertdict.lto_priv.0")->regs[0], PYREG_RSI);

	/* lists and sets (§11): a warm append is seen when list_resize grows the list */
	assert_string_equal(where(point(&in, "list_resize.lto_priv.0"), "self"), "rdi");
	assert_string_equal(where(point(&in, "list_inplace_concat.lto_priv.0"), "_self"), "rdi");
	/* x in S: _PySet_Contains inlined into the eval loop (CONTAINS_OP_SET) */
	s = site_in(&in, "_PySet_Contains", "_PyEval_EvalFrameDefault");
	assert_non_null(s);
	assert_true(s->wanted && s->traced);
	const struct probe_point *q = NULL;
	for (size_t i = 0; i < in.nprobes; i++)
		if (in.probes[i].kind == PROBE_INLINE_ENTRY && in.probes[i].vaddr == s->entry_pc)
			q = &in.probes[i];
	assert_non_null(q);
	assert_string_equal(probe_program(q), "set_contains");
	assert_int_equal(q->regs[0], PYREG_R13);
	assert_int_equal(q->regs[1], PYREG_R12);
	/* sorted(L) copies through list_extend inlined into builtin_sorted; the eval loop's copy
	 * ([*L]) has no target in a register and is not wanted */
	s = site_in(&in, "list_extend", "builtin_sorted");
	assert_non_null(s);
	assert_true(s->traced);
	s = site_in(&in, "list_extend", "_PyEval_EvalFrameDefault");
	assert_non_null(s);
	assert_false(s->wanted);
	/* S |= T: set_update_internal inlined into PyNumber_InPlaceOr */
	s = site_in(&in, "set_update_internal", "PyNumber_InPlaceOr");
	assert_non_null(s);
	assert_true(s->traced);
	size_t unseen;
	assert_non_null(unseen_ops_for(3, 13, &unseen));
	assert_true(unseen >= 5);
}

/* The free-threaded 3.13t that setup.sh builds (trixie-ft): no table of ours has its layout;
 * the values below are gdb's `ptype /o` of that build (docs/interpreters.md §10). */
static void test_313t(void **state)
{
	(void)state;
	char python[PATH_MAX], why[1024] = "";
	const char *root = getenv("PYRACE_INTERP_CACHE");
	snprintf(python, sizeof(python), "%s/trixie-ft/opt/python3.13t/bin/python3.13t",
		 root ? root : "/var/cache/pyrace-interpreters");
	if (access(python, X_OK) != 0) {
		print_message("%s missing: run tests/interpreters/setup.sh\n", python);
		skip();
	}
	static struct interp_info quick, in;
	assert_int_equal(interp_inspect(python, NULL, "/usr/lib/debug", &quick, why, sizeof(why)),
			 INTERP_OK);
	assert_int_equal(interp_inspect_all(python, NULL, "/usr/lib/debug", &in, why, sizeof(why)),
			 INTERP_OK);
	assert_int_equal(quick.nprobes, in.nprobes);
	assert_string_equal(in.build, "free-threaded");
	assert_int_equal(in.free_threaded, 1);
	assert_int_equal(in.minor, 13);
	assert_true(in.core_is_dynamic);	    /* PIE: Debian's gcc default */
	assert_string_equal(in.dwarf_file, python); /* unstripped: its own DWARF */
	assert_int_equal(in.layout_from_dwarf, 19);
	assert_int_equal(in.layout_from_table, 0);
	/* the object header is 32 bytes (ob_tid, padding, ob_mutex, ob_gc_bits, ob_ref_local,
	 * ob_ref_shared), ob_type at 24: every object field moves by 16 */
	assert_int_equal(in.layout.obj_type, 24);
	assert_int_equal(in.layout.type_flags, 184);
	assert_int_equal(in.layout.type_name, 40);
	assert_int_equal(in.layout.str_length, 32);
	assert_int_equal(in.layout.str_hash, 40);
	assert_int_equal(in.layout.str_state, 48);
	assert_int_equal(in.layout.str_ascii_data, 56);
	assert_int_equal(in.layout.str_utf8_length, 56);
	assert_int_equal(in.layout.str_utf8, 64);
	/* 3.13t keeps `interned` a 2-bit field: compact and ascii where 3.13 has them */
	assert_int_equal(in.layout.str_compact_bit, 5);
	assert_int_equal(in.layout.str_ascii_bit, 6);
	assert_int_equal(in.code.str_compact_bit, 5);
	assert_int_equal(in.layout.long_size, 32); /* lv_tag */
	assert_int_equal(in.layout.long_digits, 40);
	assert_int_equal(in.layout.dict_used, 32);
	assert_int_equal(in.layout.dictview_dict, 32);
	assert_int_equal(in.layout.weakref_object, 32);
	assert_int_equal(in.layout.cfunction_self, 40); /* PyCFunctionObject.m_self, from DWARF */
	assert_int_equal(in.code.module_dict, 32);
	assert_int_equal(in.code.dict_keys, 48);
	assert_int_equal(in.code.dict_values, 56);
	assert_int_equal(in.code.keys_log2_size, 8);
	assert_int_equal(in.code.keys_kind, 10);
	assert_int_equal(in.code.keys_nentries, 24);
	assert_int_equal(in.code.keys_indices, 32);
	assert_int_equal(in.code.entry_size_general, 24);
	assert_int_equal(in.code.entry_size_unicode, 16);
	assert_int_equal(in.code.co_filename, 128);
	assert_int_equal(in.layout.code_adaptive, 216);
	assert_int_equal(in.layout.owner_cstack, 3);
	assert_int_equal(in.layout.frame_owner, 70);
	assert_int_equal(in.layout.handle_exiting, 57);
	assert_int_equal(in.layout.tstate_current_frame, 72);
	assert_int_equal(in.threads.tls_tstate, -8); /* mov %fs:-0x8,%rax */
	assert_non_null(strstr(in.queue_ext, "/lib/python3.13t/lib-dynload/_queue.cpython-313t-"));

	for (size_t i = 0; i < in.nprobes; i++)
		if (probe_point_missing(&in.probes[i]))
			fail_msg("%s missing", in.probes[i].spec->function);
	/* reads without the dict's lock, and every LOAD_GLOBAL (no specialisation) */
	const struct probe_point *p = point(&in, "_Py_dict_lookup_threadsafe");
	assert_string_equal(probe_program(p), "dict_lookup");
	assert_string_equal(where(p, "mp"), "rdi");
	assert_string_equal(probe_program(point(&in, "PyDict_Pop")), "dict_pop_held");
	p = point(&in, "_PyEvent_Notify");
	assert_string_equal(probe_program(p), "thread_exiting");
	assert_string_equal(where(p, "evt"), "rdi");
	assert_string_equal(point(&in, "insertdict")->source, "symtab");
	/* _Py_Finalize's body is a .part clone that DWARF names: Py_Exit reaches it too */
	assert_string_equal(point(&in, "_Py_Finalize")->source, "DWARF");
	/* `del D[k]`: PyDict_DelItem inlined into dict_ass_sub, probed where the copy starts */
	const struct interp_inline_site *s = site_in(&in, "PyDict_DelItem", "dict_ass_sub");
	assert_non_null(s);
	assert_true(s->traced);
	int entry = 0;
	for (size_t i = 0; i < in.nprobes; i++)
		if (in.probes[i].kind == PROBE_INLINE_ENTRY && in.probes[i].vaddr == s->entry_pc) {
			entry = 1;
			assert_string_equal(probe_program(&in.probes[i]), "dict_delitem");
			assert_true(in.probes[i].regs_known);
		}
	assert_true(entry);
	/* lists and sets: every row found out of line, with its arguments from DWARF
	 * (docs/interpreters.md §10, "Lists and sets") */
	p = point(&in, "list_append");
	assert_string_equal(probe_program(p), "list_write");
	assert_string_equal(where(p, "self"), "rdi");
	p = point(&in, "list_extend_lock_held");
	assert_string_equal(probe_program(p), "list_extend");
	assert_string_equal(where(p, "self"), "rdi");
	assert_string_equal(where(p, "iterable"), "rsi");
	assert_string_equal(where(point(&in, "list_subscript"), "_self"), "rdi");
	assert_string_equal(where(point(&in, "list_clear_impl"), "a"), "rdi");
	p = point(&in, "_PySet_Contains");
	assert_string_equal(probe_program(p), "set_contains");
	assert_string_equal(where(p, "so"), "rdi");
	assert_string_equal(where(p, "key"), "rsi");
	assert_string_equal(probe_program(point(&in, "set_update_internal")), "set_update");
	/* 3.13t specialises nothing: L.append(x), L[i], L[i] = v are seen, not listed as unseen */
	size_t unseen;
	const struct unseen_op *ops = unseen_ops_for_build(3, 13, 1, &unseen);
	assert_non_null(ops);
	for (size_t i = 0; i < unseen; i++)
		assert_null(strstr(ops[i].operation, "L[i]"));
	assert_int_equal(unseen, 2);
}

static void test_314(void **state)
{
	(void)state;
	char python[PATH_MAX];
	NEED_CHROOT("sid", "python3.14", python);
	static struct interp_info in;
	inspect_both(python, &in, "3.14", INTERP_OK);
	assert_int_equal(in.minor, 14);
	assert_int_equal(in.layout.frame_owner, 74);
	assert_int_equal(in.layout.code_adaptive, 208);
	assert_int_equal(in.code.runtime_main_interp, 816);
	assert_int_equal(in.threads.gil_holder, 7792);
	assert_int_equal(in.layout.tls_tstate, -0x18);
	assert_int_equal(in.layout.cfunction_self, 24);

	/* IPA-SRA dropped interp: the dict moved to rdi */
	const struct probe_point *p = point(&in, "insertdict.isra.0");
	assert_string_equal(where(p, "mp"), "rdi");
	assert_string_equal(where(p, "key"), "rsi");
	assert_string_equal(where(p, "hash"), "rdx");
	assert_string_equal(where(p, "value"), "rcx");
	p = point(&in, "insert_to_emptydict.isra.0");
	assert_string_equal(where(p, "mp"), "rdi");
	/* both clones of dict_dict_merge are called, so both are probe points */
	const char *merges[] = {"dict_dict_merge.constprop.0.isra.0",
				"dict_dict_merge.constprop.1.isra.0"};
	for (size_t i = 0; i < 2; i++) {
		p = point(&in, merges[i]);
		assert_string_equal(where(p, "mp"), "rdi");
		assert_string_equal(where(p, "other"), "rsi");
	}
	point(&in, "pop_lock_held.constprop.0");
	point(&in, "pop_lock_held.lto_priv.0");
	assert_string_equal(where(point(&in, "lock_PyThread_acquire_lock.lto_priv.0"), "op"),
			    "rdi");
	assert_null(site_in(&in, "lock_PyThread_acquire_lock", "method_vectorcall"));
	/* no DWARF subprogram: lock_dealloc kept its signature, so the calling convention's rdi */
	p = point(&in, "lock_dealloc.lto_priv.0");
	assert_string_equal(where(p, "self"), "rdi (no DIE)");
	assert_int_equal(p->regs[0], PYREG_RDI);

	/* PGO inlined lock.release() into cfunction_call (§5, §10): one copy, its error path in
	 * .cold (a DIE nested in the copy) is part of it; the lock parameter is optimised out, so
	 * the point reads the called method object (func, rdi) and takes its m_self */
	p = point(&in, "lock_PyThread_release_lock.lto_priv.0");
	assert_int_equal(p->ninlined_uncovered, 1);
	assert_int_equal(p->ninlined_traced, 1);
	const struct interp_inline_site *s =
	    site_in(&in, "lock_PyThread_release_lock", "cfunction_call");
	assert_non_null(s);
	assert_null(site_in(&in, "lock_PyThread_release_lock", "cfunction_call.lto_priv.0.cold"));
	assert_int_equal(s->caller_offset, 1042);
	assert_string_equal(s->args[0].where, "optimised out");
	assert_true(s->traced);
	const struct probe_point *q = point(&in, "cfunction_call.lto_priv.0+1042");
	assert_int_equal(q->kind, PROBE_INLINE_ENTRY);
	assert_int_equal(q->vaddr, s->entry_pc);
	assert_string_equal(probe_program(q), "lock_release_bound");
	assert_string_equal(q->args[0].name, "func");
	assert_string_equal(q->args[0].where, "rdi");
	assert_int_equal(q->regs[0], PYREG_RDI);

	/* dict_get inlined into method_vectorcall_FASTCALL: its args are the caller's args + 1 */
	s = site_in(&in, "dict_get", "method_vectorcall_FASTCALL");
	assert_non_null(s);
	assert_int_equal(s->caller_offset, 129);
	assert_true(s->traced);
	q = point(&in, "method_vectorcall_FASTCALL.lto_priv.0+129");
	assert_string_equal(probe_program(q), "dict_get");
	assert_string_equal(where(q, "self"), "r9");
	assert_string_equal(where(q, "args"), "r8+8");
	assert_int_equal(q->regs[0], PYREG_R9);
	assert_int_equal(q->regs[1], PYREG_R8);
	assert_int_equal(q->offs[0], 0);
	assert_int_equal(q->offs[1], 8);

	/* the weak registry's removal, inlined as on 3.13 (§7) */
	s = site_in(&in, "_PyDict_DelItemIf", "_weakref__remove_dead_weakref");
	assert_non_null(s);
	assert_int_equal(s->caller_offset, 60);
	assert_true(s->traced);
	q = point(&in, "_weakref__remove_dead_weakref.lto_priv.0+60");
	assert_int_equal(q->regs[0], PYREG_RBX);
	assert_int_equal(q->regs[1], PYREG_R12);

	/* lists and sets (§11): parameters 3.14 renamed, read by their new names */
	assert_string_equal(where(point(&in, "list_subscript.lto_priv.0"), "_self"), "rdi");
	assert_string_equal(where(point(&in, "list_contains.lto_priv.0"), "aa"), "rdi");
	assert_string_equal(where(point(&in, "set_clear_internal.lto_priv.0"), "self"), "rdi");
	assert_string_equal(where(point(&in, "list_clear_impl.isra.0"), "a"), "rdi");
	/* a warm append grows the list in the eval loop's copies of the resize: only those are
	 * wanted (the C API's and the compiler's are not the program's lists) */
	p = point(&in, "_PyList_AppendTakeRefListResize");
	assert_true(p->ninlined_uncovered > 2);
	assert_int_equal(p->ninlined_wanted, 2);
	assert_int_equal(p->ninlined_traced, 2);
	size_t eval_copies = 0;
	for (size_t i = 0; i < in.nprobes; i++) {
		const struct probe_point *r = &in.probes[i];
		if (r->kind != PROBE_INLINE_ENTRY ||
		    strncmp(r->symbol, "_PyEval_EvalFrameDefault", 24) != 0)
			continue;
		assert_string_equal(probe_program(r), "list_write");
		assert_true(r->regs[0] != PYREG_NONE);
		eval_copies++;
	}
	assert_int_equal(eval_copies, 2);
	/* tuple(L): PyList_AsTuple inlined into PySequence_Tuple */
	s = site_in(&in, "PyList_AsTuple", "PySequence_Tuple");
	assert_non_null(s);
	assert_true(s->wanted && s->traced);
	assert_string_equal(probe_program(point(&in, "PySequence_Tuple+72")), "list_read");
	/* S |= T: set_ior promoted into the in-place protocol, probed where it inlines
	 * set_update_internal (binary_iop1: the set in rdi) */
	s = site_in(&in, "set_update_internal", "binary_iop1");
	assert_non_null(s);
	assert_true(s->traced);
	assert_int_equal(point(&in, "binary_iop1.lto_priv.0+138")->regs[0], PYREG_RDI);
	/* the compiler's copies are not the program's sets */
	s = site_in(&in, "set_update_internal", "_PySymtable_Build");
	assert_true(s == NULL || !s->wanted);
	size_t unseen;
	assert_non_null(unseen_ops_for(3, 14, &unseen));
	assert_true(unseen >= 5);
}

/* The locations DWARF gives, as the probe programs read them. */
static void test_probe_reg_parse(void **state)
{
	(void)state;
	int32_t off = 7;
	assert_int_equal(probe_reg_parse("rdi", &off), PYREG_RDI);
	assert_int_equal(off, 0);
	assert_int_equal(probe_reg_parse("r8+8", &off), PYREG_R8);
	assert_int_equal(off, 8);
	assert_int_equal(probe_reg_parse("r15-16", &off), PYREG_R15);
	assert_int_equal(off, -16);
	assert_int_equal(probe_reg_parse("rdi (no DIE)", &off), PYREG_RDI);
	assert_int_equal(off, 0);
	assert_int_equal(probe_reg_parse("r1", &off), PYREG_NONE);
	assert_int_equal(probe_reg_parse("r8+", &off), PYREG_NONE);
	assert_int_equal(probe_reg_parse("r8+8x", &off), PYREG_NONE);
	assert_int_equal(probe_reg_parse("optimised out", &off), PYREG_NONE);
	assert_int_equal(probe_reg_parse("computed", &off), PYREG_NONE);
	assert_int_equal(probe_reg_parse("stack", &off), PYREG_NONE);
	/* probe_reg_of is for plain registers only */
	assert_int_equal(probe_reg_of("r12"), PYREG_R12);
	assert_int_equal(probe_reg_of("r8+8"), PYREG_NONE);
}

/* Every whole copy of a function, never a fragment, from the 3.14 debug file's .symtab. */
static void test_find_clones(void **state)
{
	(void)state;
	char python[PATH_MAX], debug_dir[PATH_MAX + 32];
	NEED_CHROOT("sid", "python3.14", python);
	snprintf(debug_dir, sizeof(debug_dir), "%s/sid/usr/lib/debug", cache);
	struct symbol_table *t = symbol_table_open(python, debug_dir);
	assert_non_null(t);
	assert_non_null(symbol_table_debug_file(t));
	struct elf_symbol found[8];
	assert_int_equal(symbol_table_find_functions(t, "dict_dict_merge", found, 8), 2);
	/* no exact name: clones in address order (0x572fe0, then 0x6f4200) */
	assert_string_equal(found[0].name, "dict_dict_merge.constprop.0.isra.0");
	assert_string_equal(found[1].name, "dict_dict_merge.constprop.1.isra.0");
	assert_true(found[0].vaddr < found[1].vaddr);
	assert_int_equal(symbol_table_find_functions(t, "dict_dict_merge", found, 1), 1);
	/* only .part.N pieces of it exist: not a function we may probe */
	assert_int_equal(symbol_table_find_functions(t, "setitem_take2_lock_held", found, 8), 0);
	/* an exported function is listed once although .dynsym and .symtab both have it */
	assert_int_equal(symbol_table_find_functions(t, "PyDict_DelItem", found, 8), 1);
	assert_int_equal(found[0].source, SYM_FROM_DYNSYM);
	/* the symbol holding an address, fragments included */
	struct elf_symbol holder;
	assert_int_equal(symbol_table_function_at(t, found[0].vaddr + 1, &holder), 0);
	assert_string_equal(holder.name, "PyDict_DelItem");
	uint64_t vaddr, size;
	assert_int_equal(symbol_table_section(t, ".PyRuntime", &vaddr, &size), 0);
	assert_true(size >= 760);
	symbol_table_close(t);
}

/* A function no symbol table names is found by its DWARF name (the third place looked in):
 * the debug file is copied with lock_dealloc's symbol removed. */
static void test_dwarf_fallback(void **state)
{
	(void)state;
	char python[PATH_MAX], why[1024];
	NEED_CHROOT("trixie", "python3.13", python);
	static struct interp_info in;
	interp_inspect_all(python, NULL, "/usr/lib/debug", &in, why, sizeof(why));
	const struct probe_point *before = point(&in, "lock_dealloc.lto_priv.0");
	uint64_t entry = before->entry;
	const char *id = strstr(in.debug_file, "/.build-id/");
	assert_non_null(id);
	char dir[] = "/tmp/pyrace-dwarf-XXXXXX", sub[PATH_MAX], cmd[3 * PATH_MAX];
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s%.14s", dir, id); /* DIR/.build-id/xx */
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && objcopy --strip-symbol=lock_dealloc.lto_priv.0 "
		 "--strip-symbol=lock_dealloc.lto_priv.0.cold '%s' '%s%s'",
		 sub, in.debug_file, dir, id);
	assert_int_equal(system(cmd), 0);
	static struct interp_info stripped;
	interp_inspect_all(python, NULL, dir, &stripped, why, sizeof(why));
	assert_true(strncmp(stripped.debug_file, dir, strlen(dir)) == 0);
	const struct probe_point *p = point(&stripped, "lock_dealloc");
	assert_string_equal(p->source, "DWARF");
	assert_int_equal(p->entry, entry);
	assert_int_equal(p->vaddr, entry + 4);
	assert_string_equal(p->args[0].where, "rdi");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Debian's python3.X-dbg interpreters: Py_DEBUG, recognised from their exports. */
static void test_debug_builds(void **state)
{
	(void)state;
	const char *suites[][2] = {{"trixie", "python3.13d"}, {"sid", "python3.14d"}};
	for (size_t i = 0; i < 2; i++) {
		char python[PATH_MAX], why[1024] = "";
		NEED_CHROOT(suites[i][0], suites[i][1], python);
		static struct interp_info in;
		assert_int_equal(
		    interp_inspect(python, NULL, "/usr/lib/debug", &in, why, sizeof(why)),
		    INTERP_UNSUPPORTED);
		assert_non_null(strstr(why, "debug build (Py_DEBUG)"));
		assert_string_equal(in.build, "Py_DEBUG");
		assert_true(in.has_debug_offsets);
		assert_int_equal(in.free_threaded, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_313),
	    cmocka_unit_test(test_313t),
	    cmocka_unit_test(test_314),
	    cmocka_unit_test(test_find_clones),
	    cmocka_unit_test(test_dwarf_fallback),
	    cmocka_unit_test(test_debug_builds),
	    cmocka_unit_test(test_probe_reg_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
