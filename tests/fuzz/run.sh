#!/bin/bash
# Runs the libFuzzer targets of pyrace, one after the other.
#   run.sh [--replay-seeds] --seconds N --bin-dir DIR --work-dir DIR TARGET...
# For each target: replays every input of tests/fuzz/regressions/<target>/ (and, with
# --replay-seeds, of tests/fuzz/corpus/<target>/), then fuzzes a copy of its corpus for N seconds
# and prints executions, duration and crashes. Crashing inputs are kept in the work directory.
# Ends with the line "P passed, F failed" (one count per target); exits 1 when any target failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
seconds=60
bin_dir=.output/fuzz
work_root=.output/fuzz-work
replay_seeds=0
targets=()
while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--bin-dir) bin_dir=$2; shift 2 ;;
	--work-dir) work_root=$2; shift 2 ;;
	--replay-seeds) replay_seeds=1; shift ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
if [ ${#targets[@]} -eq 0 ]; then
	echo "run.sh: no targets" >&2
	exit 2
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs a target on every file of the given directories once; 0 when none of them fails.
replay() {
	local bin=$1 label=$2 log=$3
	shift 3
	local files=()
	for d in "$@"; do
		[ -d "$d" ] || continue
		while IFS= read -r -d '' f; do files+=("$f"); done \
			< <(find "$d" -type f ! -name '.*' -print0 | sort -z)
	done
	if [ ${#files[@]} -eq 0 ]; then
		echo "  $label: no inputs"
		return 0
	fi
	if "$bin" -runs=1 "${files[@]}" >"$log" 2>&1; then
		echo "  $label: ${#files[@]} inputs replayed, no crash"
		return 0
	fi
	echo "  $label: FAILED replaying ${#files[@]} inputs (log: $log)"
	grep -E '^(Running|==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | tail -n 8 | sed 's/^/    /'
	return 1
}

mkdir -p "$work_root"
passed=0
failed=0
for t in "${targets[@]}"; do
	bin=$bin_dir/$t
	echo "$t:"
	if [ ! -x "$bin" ]; then
		echo "  no binary $bin"
		failed=$((failed + 1))
		continue
	fi
	work=$(mktemp -d "$work_root/$t.XXXXXX")
	ok=1
	replay "$bin" regressions "$work/replay-regressions.log" "$here/regressions/$t" || ok=0
	if [ $replay_seeds = 1 ]; then
		replay "$bin" seeds "$work/replay-seeds.log" "$here/corpus/$t" || ok=0
	fi

	mkdir -p "$work/corpus"
	if [ -d "$here/corpus/$t" ]; then
		find "$here/corpus/$t" -maxdepth 1 -type f ! -name '.*' -exec cp -t "$work/corpus" {} +
	fi
	start=$(date +%s.%N)
	TMPDIR=$work "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" >"$work/fuzz.log" 2>&1
	status=$?
	end=$(date +%s.%N)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n 1)
	execs=${execs:-0}
	duration=$(awk "BEGIN { printf \"%.1f\", $end - $start }")
	rate=$(awk "BEGIN { d = $end - $start; printf \"%d\", (d > 0 ? $execs / d : 0) }")
	crashes=$(find "$work" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
	if [ $status -ne 0 ] && [ "$crashes" -eq 0 ]; then
		crashes=1 # died without leaving an input (e.g. a crash during startup)
	fi
	echo "  fuzz: $execs executions in $duration s ($rate/s), $crashes crashes"
	if [ "$crashes" -ne 0 ]; then
		ok=0
		echo "  log: $work/fuzz.log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$work/fuzz.log" | head -n 4 |
			sed 's/^/    /'
		for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			[ -e "$f" ] && echo "  input: $f (fix it, then keep it under" \
				"tests/fuzz/regressions/$t/)"
		done
	fi
	if [ $ok = 1 ]; then
		passed=$((passed + 1))
		rm -rf "$work"
	else
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
