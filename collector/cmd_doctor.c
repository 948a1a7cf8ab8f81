/* pyrace doctor: what this kernel and this interpreter let pyrace see, probe by probe. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "commands.h"
#include "interp.h"

static void doctor_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: pyrace doctor [--python PATH | -p PID] [--debug-dir DIR]\n\n"
	    "Checks the kernel (BPF, BTF, uprobes, privileges) and an interpreter: its version,\n"
	    "build flavour, layout, where its symbols come from, and for every event class the\n"
	    "function probed, its address, the registers of its arguments (DWARF), its inlined\n"
	    "copies and whether it was found; then whether `pyrace run` can trace it. Knows\n"
	    "CPython 3.11, 3.13 and 3.14. Default interpreter: /usr/bin/python3. Debug files are\n"
	    "looked for in DIR (default /usr/lib/debug), then in the usr/lib/debug of a chroot\n"
	    "holding the interpreter.\n\n"
	    "  --python PATH        the interpreter to check\n"
	    "  -p, --pid PID        check the interpreter of a running process\n"
	    "  --debug-dir DIR      where build-id debug files live (default /usr/lib/debug)\n"
	    "  -h, --help           this text\n\n"
	    "Exit status: 0 everything found, 1 the kernel or privileges are lacking,\n"
	    "2 the interpreter cannot be traced (fully).\n");
}

static int check(const char *what, int ok, const char *detail)
{
	printf("  %-28s %-8s %s\n", what, ok ? "ok" : "MISSING", detail);
	return ok;
}

static int kernel_checks(void)
{
	struct utsname u;
	uname(&u);
	printf("kernel %s\n", u.release);
	int ok = 1;
	ok &= check("running as root", geteuid() == 0, "CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN");
	libbpf_set_print(NULL);
	ok &= check("BPF kprobe/uprobe programs",
		    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_KPROBE, NULL) == 1, "");
	ok &= check("BPF ring buffer", libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1,
		    "kernel 5.8+");
	ok &= check("BTF", access("/sys/kernel/btf/vmlinux", R_OK) == 0, "/sys/kernel/btf/vmlinux");
	ok &= check("uprobes", access("/sys/bus/event_source/devices/uprobe/type", R_OK) == 0,
		    "/sys/bus/event_source/devices/uprobe");
	unsigned major = 0, minor = 0;
	sscanf(u.release, "%u.%u", &major, &minor);
	check("uprobe_multi links", major > 6 || (major == 6 && minor >= 6),
	      "kernel 6.6+: fast detach; older kernels use one link per probe");
	return ok;
}

/* /proc/PID/exe and the LD_LIBRARY_PATH the process started with. */
static int process_interpreter(int pid, char *exe, size_t len, char **ld_path)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/%d/exe", pid);
	ssize_t n = readlink(link, exe, len - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	*ld_path = NULL;
	snprintf(link, sizeof(link), "/proc/%d/environ", pid);
	FILE *f = fopen(link, "r");
	if (!f)
		return 0;
	char *entry = NULL;
	size_t cap = 0;
	while (getdelim(&entry, &cap, '\0', f) > 0)
		if (strncmp(entry, "LD_LIBRARY_PATH=", 16) == 0)
			*ld_path = strdup(entry + 16);
	free(entry);
	fclose(f);
	return 0;
}

static void print_args(char *buf, size_t len, const struct probe_arg *args, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", i ? " " : "",
					 args[i].name, args[i].where);
}

static void print_inline_sites(const struct interp_info *in, size_t probe)
{
	size_t shown = 0, uncovered = 0;
	for (size_t i = 0; i < in->ninlined; i++) {
		const struct interp_inline_site *s = &in->inlined[i];
		if (s->probe != probe || s->covered)
			continue;
		if (++uncovered > 3)
			continue;
		char args[160];
		print_args(args, sizeof(args), s->args, s->nargs);
		char span[48];
		if (s->high)
			snprintf(span, sizeof(span), "0x%" PRIx64 "..0x%" PRIx64, s->entry_pc,
				 s->high);
		else
			snprintf(span, sizeof(span), "0x%" PRIx64, s->entry_pc);
		printf("  %-20s   inlined in %s+%" PRIu64 " (%s, %zu range%s) %s%s\n", "",
		       s->caller, s->caller_offset, span, s->nranges, s->nranges == 1 ? "" : "s",
		       args, s->traced ? " (probed)" : "");
		shown++;
	}
	const struct probe_point *p = &in->probes[probe];
	if (p->ninlined_uncovered > shown)
		printf("  %-20s   ... %zu more inlined cop%s not inside a probed function\n", "",
		       p->ninlined_uncovered - shown,
		       p->ninlined_uncovered - shown == 1 ? "y" : "ies");
}

/* An inlined copy probed through the method object its caller calls (its own arguments are
 * optimised out there). */
static int via_callable(const struct interp_info *in, const struct probe_point *p)
{
	const struct inline_spec *how = probe_table_inline(in->table, p->spec->function);
	return how && how->via_callable && p->program && strcmp(p->program, how->via_callable) == 0;
}

static void print_probe_table(const struct interp_info *in)
{
	printf("\n  %-20s %-40s %-10s %-24s %-34s %s\n", "event class", "function", "address",
	       "source", "arguments", "status");
	for (size_t i = 0; i < in->nprobes; i++) {
		const struct probe_point *p = &in->probes[i];
		char addr[32] = "-", source[48] = "-", args[160] = "", status[64];
		if (p->found)
			snprintf(addr, sizeof(addr), "0x%" PRIx64, p->vaddr);
		if (p->found || p->ninlined)
			snprintf(source, sizeof(source), "%s%s", p->found ? p->source : "",
				 p->found && p->ninlined ? " + " : "");
		if (p->ninlined)
			snprintf(source + strlen(source), sizeof(source) - strlen(source),
				 "inline x%zu", p->ninlined);
		if (p->spec->is_return)
			snprintf(args, sizeof(args), "return value=rax");
		else
			print_args(args, sizeof(args), p->args, p->nargs);
		if (p->ninlined_uncovered && p->ninlined_traced == p->ninlined_uncovered)
			snprintf(status, sizeof(status), "%sinlined x%zu (probed)",
				 p->found ? "ok + " : "", p->ninlined_uncovered);
		else if (p->ninlined_uncovered && p->ninlined_traced)
			snprintf(status, sizeof(status), "%sinlined x%zu (%zu not traced yet)",
				 p->found ? "ok + " : "", p->ninlined_uncovered,
				 p->ninlined_uncovered - p->ninlined_traced);
		else if (p->ninlined_uncovered)
			snprintf(status, sizeof(status), "%sinlined x%zu (not traced yet)",
				 p->found ? "ok + " : "", p->ninlined_uncovered);
		else if (!p->found && probe_spec_optional(p->spec))
			snprintf(status, sizeof(status), "not in this build (another row sees it)");
		else if (p->kind != PROBE_FUNCTION && via_callable(in, p))
			snprintf(status, sizeof(status), "ok (inlined entry, %s's self)",
				 p->args[0].name);
		else if (p->kind != PROBE_FUNCTION)
			snprintf(status, sizeof(status), "ok (inlined %s)",
				 p->kind == PROBE_INLINE_ENTRY ? "entry" : "exit");
		else
			snprintf(status, sizeof(status), "%s",
				 p->found ? (p->spec->is_return ? "ok (return)" : "ok")
					  : "MISSING");
		printf("  %-20s %-40s %-10s %-24s %-34s %s\n", p->spec->event_class,
		       p->found ? p->symbol : p->spec->function, addr, source, args, status);
		if (p->ninlined_uncovered)
			print_inline_sites(in, i);
	}
}

/* Operations the interpreter does inline: their event class is probed, yet these stay unseen. */
static void print_unseen(const struct interp_info *in)
{
	size_t n;
	const struct unseen_op *ops =
	    unseen_ops_for_build(in->major, in->minor, in->free_threaded, &n);
	if (!n)
		return;
	printf("\n  %-20s %-22s %s\n", "event class", "operation", "present but not visible");
	for (size_t i = 0; i < n; i++)
		printf("  %-20s %-22s %s\n", ops[i].event_class, ops[i].operation, ops[i].why);
}

/* The verdict line: can `pyrace run` trace it, and if not, everything that stands in the way. */
static void print_verdict(const struct interp_info *in, enum interp_status st, const char *why)
{
	char missing[2048] = "";
	size_t used = 0;
	for (size_t i = 0; i < in->nprobes && used < sizeof(missing); i++) {
		const struct probe_point *p = &in->probes[i];
		if (!p->spec->is_return && probe_point_missing(p))
			used += (size_t)snprintf(missing + used, sizeof(missing) - used, "%s%s",
						 used ? ", " : "", p->spec->function);
	}
	char inlined[1024] = "";
	size_t iused = 0;
	for (size_t i = 0; i < in->nprobes && iused < sizeof(inlined); i++) {
		const struct probe_point *p = &in->probes[i];
		if (p->ninlined_uncovered > p->ninlined_traced)
			iused += (size_t)snprintf(inlined + iused, sizeof(inlined) - iused,
						  "%s%s x%zu", iused ? ", " : "", p->spec->function,
						  p->ninlined_uncovered - p->ninlined_traced);
	}
	if (st == INTERP_OK) {
		printf("\n  pyrace run: can trace this interpreter");
		if (iused)
			printf(" (inlined copies not probed: %s)", inlined);
		printf("\n");
		return;
	}
	printf("\n  pyrace run: cannot trace this interpreter: %s\n", why);
	if (!in->table)
		return;
	if (in->major != 3 || (in->minor != 11 && in->minor != 13 && in->minor != 14))
		printf(
		    "    missing: a tested probe set for CPython %u.%u (its layout and argument "
		    "registers are read as for 3.13, but its inlined copies are not probed and the "
		    "corpus was not run on it)\n",
		    in->major, in->minor);
	if (used)
		printf("    missing: probe points for %s\n", missing);
	if (iused)
		printf("    missing: probes on inlined copies of %s\n", inlined);
}

static void print_interpreter(const struct interp_info *in)
{
	printf("  core        %s (%s)\n", in->core,
	       in->core_is_dynamic ? "position-independent" : "fixed-address executable");
	printf("  version     %s (Py_Version 0x%08x)\n", in->version, in->version_hex);
	if (in->has_debug_offsets)
		printf("  flavour     %s (_Py_DebugOffsets: version 0x%08" PRIx64
		       ", free_threaded %d)\n",
		       in->build, in->debug_offsets_version, in->free_threaded);
	else
		printf("  flavour     %s\n", in->build);
	if (in->has_debug_offsets && in->layout_from_dwarf)
		printf("  layout      %u offsets from _Py_DebugOffsets, %u from DWARF (no built-in "
		       "table for a free-threaded build)\n",
		       in->layout_from_debug_offsets, in->layout_from_dwarf);
	else if (in->has_debug_offsets && in->layout_from_debug_offsets)
		printf("  layout      %u offsets from _Py_DebugOffsets, %u from the built-in %u.%u "
		       "table\n",
		       in->layout_from_debug_offsets, in->layout_from_table, in->major, in->minor);
	else if (in->table)
		printf("  layout      built-in %u.%u table\n", in->major, in->minor);
	printf("  symbols     %s%s\n", in->core_has_symtab ? ".dynsym + .symtab" : ".dynsym",
	       in->debug_file[0] ? " + debug file .symtab" : "");
	printf("  debug file  %s\n", in->debug_file[0] ? in->debug_file : "none found");
	if (in->dwarf_file[0])
		printf("  DWARF       %s: %zu of %zu units walked for inlined copies in %.3f s\n",
		       strcmp(in->dwarf_file, in->debug_file) == 0 ? "the debug file"
								   : in->dwarf_file,
		       in->dwarf_units_walked, in->dwarf_units, in->dwarf_walk_seconds);
	else
		printf("  DWARF       none (argument registers and inlined copies unknown)\n");
	printf("  _queue      %s\n", in->queue_ext[0] ? in->queue_ext : "not found");
}

static int interpreter_checks(const char *exe, const char *ld_path, const char *debug_dir)
{
	struct interp_info *in = calloc(1, sizeof(*in));
	char why[1024];
	if (!in)
		return EXIT_USAGE;
	enum interp_status st = interp_inspect_all(exe, ld_path, debug_dir, in, why, sizeof(why));
	printf("\ninterpreter %s\n", exe);
	if (st == INTERP_NOT_ELF || st == INTERP_NOT_PYTHON || !in->version[0]) {
		printf("  %s\n", why);
		if (st == INTERP_NOT_ELF)
			printf("  (a wrapper script? pass the real interpreter: "
			       "python3 -c 'import sys; print(sys.executable)')\n");
		free(in);
		return EXIT_UNTRACEABLE;
	}
	print_interpreter(in);
	size_t missing = 0;
	if (in->table) {
		print_probe_table(in);
		print_unseen(in);
		for (size_t i = 0; i < in->nprobes; i++)
			missing += probe_point_missing(&in->probes[i]);
	}
	print_verdict(in, st, why);
	free(in);
	return st == INTERP_OK && !missing ? EXIT_NO_RACES : EXIT_UNTRACEABLE;
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option options[] = {
	    {"python", required_argument, NULL, 'P'},
	    {"pid", required_argument, NULL, 'p'},
	    {"debug-dir", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *python = "/usr/bin/python3", *debug_dir = "/usr/lib/debug";
	int pid = 0, opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "p:h", options, NULL)) != -1) {
		switch (opt) {
		case 'P':
			python = optarg;
			break;
		case 'p':
			pid = atoi(optarg);
			break;
		case 'd':
			debug_dir = optarg;
			break;
		case 'h':
			doctor_usage(stdout);
			return 0;
		default:
			doctor_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		doctor_usage(stderr);
		return EXIT_USAGE;
	}
	int kernel_ok = kernel_checks();
	char exe[PATH_MAX];
	char *ld_path = NULL;
	if (pid) {
		if (process_interpreter(pid, exe, sizeof(exe), &ld_path)) {
			fprintf(stderr, "pyrace: no such process: %d\n", pid);
			return EXIT_USAGE;
		}
	} else {
		if (!realpath(python, exe)) {
			fprintf(stderr, "pyrace: no such interpreter: %s\n", python);
			return EXIT_USAGE;
		}
	}
	int rc = interpreter_checks(exe, ld_path, debug_dir);
	free(ld_path);
	return !kernel_ok ? EXIT_USAGE : rc;
}
