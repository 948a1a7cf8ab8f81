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
	    "build, where its symbols come from, and for every event class the function probed,\n"
	    "its address and whether it was found. Default interpreter: /usr/bin/python3.\n\n"
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

static int interpreter_checks(const char *exe, const char *ld_path, const char *debug_dir)
{
	struct interp_info *in = calloc(1, sizeof(*in));
	char why[1024];
	if (!in)
		return EXIT_USAGE;
	enum interp_status st = interp_inspect(exe, ld_path, debug_dir, in, why, sizeof(why));
	printf("\ninterpreter %s\n", exe);
	if (st == INTERP_NOT_ELF || st == INTERP_NOT_PYTHON || st == INTERP_UNSUPPORTED) {
		printf("  %s\n", why);
		if (st == INTERP_NOT_ELF)
			printf("  (a wrapper script? pass the real interpreter: "
			       "python3 -c 'import sys; print(sys.executable)')\n");
		free(in);
		return EXIT_UNTRACEABLE;
	}
	printf("  core        %s\n", in->core);
	printf("  version     %s (%s build)\n", in->version, in->build ? in->build : "unknown");
	printf("  debug file  %s\n", in->debug_file[0] ? in->debug_file : "none found");
	printf("  _queue      %s\n", in->queue_ext[0] ? in->queue_ext : "not found");
	printf("\n  %-20s %-32s %-18s %-11s %s\n", "event class", "function", "address", "source",
	       "status");
	size_t missing = 0;
	for (size_t i = 0; i < in->nprobes; i++) {
		const struct probe_point *p = &in->probes[i];
		char addr[32] = "-";
		if (p->found)
			snprintf(addr, sizeof(addr), "0x%" PRIx64, p->vaddr);
		printf("  %-20s %-38s %-10s %-11s %s\n", p->spec->event_class,
		       p->found ? p->symbol : p->spec->function, addr, p->found ? p->source : "-",
		       p->found ? (p->spec->is_return ? "ok (return)" : "ok") : "MISSING");
		missing += !p->found;
	}
	if (st == INTERP_NO_DEBUG_INFO)
		printf("\n  %s\n", why);
	else if (missing)
		printf("\n  %zu probe point(s) missing: those event classes are not seen\n",
		       missing);
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
