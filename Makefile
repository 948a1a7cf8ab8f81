# pyrace build: eBPF objects and skeletons, the pyrace binary, tests and demo.
#   make          build ./pyrace
#   make demo     install what is missing, build, trace examples/cell_cache.py
#   make test     install what is missing, build, run unit tests (ASan/UBSan), fuzz smoke tests
#                 and integration tests (also with an ASan/UBSan pyrace)
#   make integration-asan  the integration tests with pyrace built with ASan+UBSan (part of test)
#   make realworld  OpenStack Nova and standard-library drivers traced and checked (part of test)
#   make fuzz     run each libFuzzer target for FUZZ_SECONDS (default 60) on a copy of its corpus
#   make fuzz-smoke  replay every fuzz regression input and seed, then fuzz each target for 10 s
#   make install  PREFIX=/usr/local DESTDIR= : bin/pyrace, share/man/man1/pyrace.1,
#                 share/pyrace/default.supp
#   make soak     pyrace attached to a loaded service for SOAK_SECONDS (default 600): memory
#                 bounded, lost events reported, service healthy (not part of make test)
#   V=1           show every command

OUT       := .output
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PYTHON    ?= python3
ARCH      := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS    ?= -O2 -g
# snprintf truncation is how we bound paths and messages, not a mistake
WARNINGS  := -Wall -Wextra -Werror -Wno-format-truncation
CPPFLAGS  := -std=c11 -D_GNU_SOURCE -I$(OUT) -Ibpf -Isymbolizer -Icollector -Ireports
LDLIBS    := -lbpf -ldw -lelf -lz -lm -lpthread
SANITIZE  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

MAIN_SRC  := collector/main.c
LIB_SRCS  := $(filter-out $(MAIN_SRC),$(wildcard collector/*.c symbolizer/*.c reports/*.c))
LIB_OBJS  := $(patsubst %.c,$(OUT)/obj/%.o,$(LIB_SRCS))
ASAN_OBJS := $(patsubst %.c,$(OUT)/asan/%.o,$(LIB_SRCS))
ASAN_PYRACE := $(OUT)/asan/pyrace
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
SKELS     := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/%,$(UNIT_SRCS))
HEADERS   := $(wildcard bpf/*.h collector/*.h symbolizer/*.h reports/*.h)
# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang against coverage-instrumented objects
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_BINS := $(addprefix $(OUT)/fuzz/,$(FUZZ_TARGETS))
FUZZ_OBJS := $(patsubst %.c,$(OUT)/fuzzobj/%.o,$(LIB_SRCS))
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
# the same warnings as with gcc; clang does not know -Wformat-truncation
FUZZ_WARNINGS := $(WARNINGS) -Wno-unknown-warning-option
FUZZ_SECONDS ?= 60
# events of the synthetic trace that make bench analyses
ANALYZER_EVENTS ?= 50000000
PREFIX    ?= /usr/local
DESTDIR   ?=
SOAK_SECONDS ?= 600

.PHONY: all install test-deps deps realworld-deps realworld demo test unit integration integration-asan fuzz fuzz-smoke fuzz-build soak clean format check-format bench

all: pyrace

pyrace: $(LIB_OBJS) $(OUT)/obj/$(MAIN_SRC:.c=.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUT)/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(OUT)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(OUT)/%.bpf.o: bpf/%.bpf.c bpf/events.h $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUT) -Ibpf -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUT)/obj/%.o: %.c $(HEADERS) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) -c $< -o $@

$(OUT)/asan/%.o: %.c $(HEADERS) $(SKELS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -O1 -g $(SANITIZE) $(WARNINGS) -c $< -o $@

$(OUT)/tests/test_%: tests/unit/test_%.c $(ASAN_OBJS) $(HEADERS)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit -O1 -g $(SANITIZE) $(WARNINGS) $< $(ASAN_OBJS) $(LDLIBS) -lcmocka -o $@

# pyrace itself under ASan+UBSan (the unit tests' objects): make integration-asan runs it
$(ASAN_PYRACE): $(ASAN_OBJS) $(OUT)/asan/$(MAIN_SRC:.c=.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) -O1 -g $(SANITIZE) $^ $(LDLIBS) -o $@

$(OUT)/fuzzobj/%.o: %.c $(HEADERS) $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(CPPFLAGS) -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SANITIZE) $(FUZZ_WARNINGS) -c $< -o $@

$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS) $(HEADERS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(CPPFLAGS) -O1 -g -fsanitize=fuzzer $(FUZZ_SANITIZE) $(FUZZ_WARNINGS) $< $(FUZZ_OBJS) $(LDLIBS) -o $@

# Installs every Debian package the build, the demo and the tests need; does nothing when all
# are present. Needs root only when something is missing.
DEB_PACKAGES := clang llvm libbpf-dev bpftool libdw-dev libelf-dev zlib1g-dev libunwind-dev \
	libcmocka-dev python3.11 python3.11-dbg pkg-config make gcc clang-format libclang-rt-dev valgrind wrk time \
	python3-pytest
# $(call install_missing,PACKAGES): apt-get installs those of PACKAGES that are not installed.
define install_missing
	$(Q)missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing $$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "deps: missing packages ($$missing); run make as root" >&2; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

deps:
	$(call install_missing,$(DEB_PACKAGES))

# The HTML report is checked in headless Chromium (about 10 s to install with apt-get update),
# the man page with man and groff.
TEST_PACKAGES := chromium man-db groff-base
test-deps:
	$(call install_missing,$(TEST_PACKAGES))

# The real-world tests need OpenStack Nova (about 210 packages, well under a minute to install).
REALWORLD_PACKAGES := python3-nova
realworld-deps:
	$(call install_missing,$(REALWORLD_PACKAGES))

demo: deps
	$(Q)$(MAKE) --no-print-directory pyrace
	./pyrace run -- /usr/bin/python3.11 examples/cell_cache.py; status=$$?; \
	if [ $$status -eq 66 ]; then echo "demo: races found, as expected (exit 66)"; else exit $$status; fi

unit: $(UNIT_BINS)
	$(Q)fail=0; for t in $(UNIT_BINS); do $$t || fail=1; done; exit $$fail

# Builds Debian trixie (3.13) and sid (3.14) chroots on first use (about a minute; reused
# afterwards), and the free-threaded 3.13t from trixie's sources (about 4 minutes, once): the
# corpus also runs under 3.13, 3.13t and 3.14, and doctor and attach are checked on each.
integration: pyrace
	$(Q)PYRACE_BUILD_INTERPRETERS=1 $(PYTHON) tests/integration/run_all.py

# The same suite with pyrace built with ASan+UBSan: any ASan, LSan (leak) or UBSan report fails
# the case that caused it (tests/integration/run_all.py, PYRACE_SANITIZED).
integration-asan: $(ASAN_PYRACE)
	$(Q)PYRACE_BIN=$(ASAN_PYRACE) PYRACE_SANITIZED=1 $(PYTHON) tests/integration/run_all.py

fuzz-build: $(FUZZ_BINS)

# Replays tests/fuzz/regressions/<target>/ first, then fuzzes a copy of tests/fuzz/corpus/<target>/.
fuzz: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh --seconds $(FUZZ_SECONDS) --bin-dir $(OUT)/fuzz --work-dir $(OUT)/fuzz-work $(FUZZ_TARGETS)

fuzz-smoke: $(FUZZ_BINS)
	$(Q)tests/fuzz/run.sh --replay-seeds --seconds 10 --bin-dir $(OUT)/fuzz --work-dir $(OUT)/fuzz-work $(FUZZ_TARGETS)

test: deps test-deps
	$(Q)$(MAKE) --no-print-directory pyrace
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(MAKE) --no-print-directory integration-asan
	$(Q)$(MAKE) --no-print-directory realworld

# A long steady-load run (tests/soak/soak.py): the tracer's memory over time, printed as a table.
soak: deps
	$(Q)$(MAKE) --no-print-directory pyrace
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) $(PYTHON) tests/soak/soak.py

# Nova's cell cache and the standard library's module caches, traced for real (tests/realworld).
realworld: realworld-deps pyrace
	$(Q)$(PYTHON) tests/realworld/check_nova.py
	$(Q)$(PYTHON) tests/realworld/check_stdlib.py

# Benchmarks: bench/run.py prints traced / untraced / floor ratios from one run.
$(OUT)/bench/uprobe_floor: bench/uprobe_floor.c $(OUT)/floor.skel.h $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -Ibench $(CFLAGS) $(WARNINGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

$(OUT)/bench/gen_trace: bench/gen_trace.c $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(WARNINGS) $< $(LIB_OBJS) $(LDLIBS) -o $@

$(OUT)/floor.bpf.o: bench/floor.bpf.c $(OUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -I$(OUT) -c $< -o $@

bench: deps
	$(Q)$(MAKE) --no-print-directory pyrace $(OUT)/bench/uprobe_floor $(OUT)/bench/gen_trace
	$(Q)$(PYTHON) bench/run.py
	$(Q)$(PYTHON) bench/service.py
	$(Q)$(PYTHON) bench/analyzer.py --events $(ANALYZER_EVENTS)

install: pyrace
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/pyrace
	$(Q)install -m 0755 pyrace $(DESTDIR)$(PREFIX)/bin/pyrace
	$(Q)install -m 0644 docs/pyrace.1 $(DESTDIR)$(PREFIX)/share/man/man1/pyrace.1
	$(Q)install -m 0644 suppressions/default.supp $(DESTDIR)$(PREFIX)/share/pyrace/default.supp

format:
	clang-format -i $(wildcard bpf/*.[ch] collector/*.[ch] symbolizer/*.[ch] reports/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch])

check-format:
	clang-format --dry-run -Werror $(wildcard bpf/*.[ch] collector/*.[ch] symbolizer/*.[ch] reports/*.[ch] tests/unit/*.[ch] tests/fuzz/*.[ch])

clean:
	rm -rf $(OUT) pyrace

.SECONDARY:
