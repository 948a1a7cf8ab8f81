#!/usr/bin/env bash
# Sets up the extra CPython interpreters the test suite needs, as Debian chroots under a cache
# directory that later runs reuse:
#   trixie: python3.13 + python3.13-dbg      sid: python3.14 + python3.14-dbg
#   trixie-ft: a free-threaded CPython 3.13t (`--disable-gil`), built from trixie's python3.13
#              source package in its own trixie chroot (a few minutes, once): /opt/python3.13t
# A finished chroot has a stamp file (CACHE/NAME.stamp) naming what was installed; a chroot
# without one is a leftover of an interrupted run and is removed and built again.
# Prints one line per interpreter at the end: NAME PATH-ON-HOST VERSION
#
# usage: tests/interpreters/setup.sh [--only trixie|sid|trixie-ft]
# env:   PYRACE_INTERP_CACHE   cache root (default /var/cache/pyrace-interpreters)
#        PYRACE_DEBIAN_MIRROR  Debian mirror (default: the one in the host's apt sources)
set -euo pipefail

CACHE=${PYRACE_INTERP_CACHE:-/var/cache/pyrace-interpreters}
ALL_NAMES=(trixie sid trixie-ft)
# Bump when the way a chroot is built changes: chroots stamped with another value are rebuilt.
RECIPE=1
# The same for the free-threaded build alone (trixie-ft), so that changing it keeps the others.
FT_RECIPE=1
FT_PREFIX=/opt/python3.13t

usage() {
	echo "usage: $0 [--only trixie|sid|trixie-ft]" >&2
	exit 2
}

names=("${ALL_NAMES[@]}")
while (($#)); do
	case $1 in
	--only)
		[[ $# -ge 2 && ($2 == trixie || $2 == sid || $2 == trixie-ft) ]] || usage
		names=("$2")
		shift 2
		;;
	--only=trixie | --only=sid | --only=trixie-ft)
		names=("${1#--only=}")
		shift
		;;
	-h | --help) usage ;;
	*) usage ;;
	esac
done

python_of() { # NAME -> X.Y
	case $1 in
	trixie | trixie-ft) echo 3.13 ;;
	sid) echo 3.14 ;;
	esac
}

suite_of() { # NAME -> the Debian suite it is debootstrapped from
	case $1 in
	trixie-ft) echo trixie ;;
	*) echo "$1" ;;
	esac
}

interpreter_of() { # NAME -> the interpreter's path inside the chroot
	case $1 in
	trixie-ft) echo "$FT_PREFIX/bin/python3.13t" ;;
	*) echo "/usr/bin/python$(python_of "$1")" ;;
	esac
}

log_tail() { # LOG
	echo "--- last lines of $1:" >&2
	tail -n 30 "$1" >&2 || true
}

# Runs a command with its output in LOG; on failure shows the log's tail and stops.
run_logged() { # LOG DESCRIPTION COMMAND...
	local log=$1 what=$2
	shift 2
	echo "+ $*" >>"$log"
	if ! "$@" >>"$log" 2>&1; then
		echo "error: $what failed" >&2
		log_tail "$log"
		exit 1
	fi
}

# The Debian mirror of the host's apt sources (deb822 .sources files, then one-line .list files).
find_mirror() {
	if [[ -n ${PYRACE_DEBIAN_MIRROR:-} ]]; then
		echo "$PYRACE_DEBIAN_MIRROR"
		return
	fi
	local f uri=""
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		# A stanza of Types deb whose URI is a Debian archive (path .../debian) or that is
		# signed with the Debian archive keyring, skipping -security/-updates-only stanzas.
		uri=$(awk '
			function flush() {
				if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no" && uri != "" &&
				    suites ~ /(^|[ \t])[a-z]+([ \t]|$)/ &&
				    (uri ~ /\/debian\/?$/ || signed ~ /debian-archive-keyring/) && !found) {
					print uri; found = 1
				}
				types = ""; uri = ""; suites = ""; signed = ""; enabled = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^[ \t]*#/ { next }
			{
				key = tolower($1); sub(/:$/, "", key)
				val = $0; sub(/^[^:]*:[ \t]*/, "", val)
				if (key == "types") types = val
				else if (key == "uris") { split(val, u, /[ \t]+/); uri = u[1] }
				else if (key == "suites") suites = val
				else if (key == "signed-by") signed = val
				else if (key == "enabled") enabled = tolower(val)
			}
			END { flush() }' "$f")
		[[ -n $uri ]] && break
	done
	if [[ -z $uri ]]; then
		local lists=()
		[[ -r /etc/apt/sources.list ]] && lists+=(/etc/apt/sources.list)
		for f in /etc/apt/sources.list.d/*.list; do
			[[ -r $f ]] && lists+=("$f")
		done
		if ((${#lists[@]})); then
			uri=$(awk '$1 == "deb" {
					i = 2
					if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
					if ($i ~ /\/debian\/?$/ && $(i + 1) !~ /-/) { print $i; exit }
				}' "${lists[@]}")
		fi
	fi
	if [[ -z $uri ]]; then
		echo "error: no Debian mirror in the host's apt sources; set PYRACE_DEBIAN_MIRROR" >&2
		exit 1
	fi
	echo "${uri%/}"
}

MOUNTS=()
cleanup() {
	local i
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}" 2>/dev/null || true
	done
	MOUNTS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Unmounts whatever an interrupted run may have left mounted inside DIR.
unmount_under() { # DIR
	local m
	while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done < <(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
}

in_chroot() { # DIR COMMAND...
	local dir=$1
	shift
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

# The stamp's first line says what was asked for; a stamp that asks for something else is stale.
stamp_header() { # NAME
	local py
	py=$(python_of "$1")
	if [[ $1 == trixie-ft ]]; then
		echo "pyrace-interpreter recipe=$FT_RECIPE suite=trixie source=python$py" \
			"configure=--disable-gil,--prefix=$FT_PREFIX"
		return
	fi
	echo "pyrace-interpreter recipe=$RECIPE suite=$1 packages=python$py,python$py-dbg"
}

is_complete() { # NAME
	local stamp=$CACHE/$1.stamp
	[[ -f $stamp && -x $CACHE/$1$(interpreter_of "$1") ]] &&
		[[ $(head -n 1 "$stamp") == "$(stamp_header "$1")" ]]
}

ensure_debootstrap() {
	command -v debootstrap >/dev/null && return
	echo "installing debootstrap on the host"
	local log=$CACHE/host-apt.log
	: >"$log"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		debootstrap >>"$log" 2>&1; then
		run_logged "$log" "apt-get update" apt-get update
		DEBIAN_FRONTEND=noninteractive run_logged "$log" "installing debootstrap" \
			apt-get install -y --no-install-recommends debootstrap
	fi
}

build() { # NAME
	local name=$1 dir=$CACHE/$1 log=$CACHE/$1.log py suite python
	py=$(python_of "$name")
	suite=$(suite_of "$name")
	python=$(interpreter_of "$name")
	ensure_debootstrap
	local mirror
	mirror=$(find_mirror)
	if [[ -e $dir ]]; then
		echo "$name: removing an unfinished chroot"
		unmount_under "$dir"
		rm -rf --one-file-system "$dir"
	fi
	rm -f "$CACHE/$name.stamp"
	: >"$log"
	local t0=$SECONDS
	echo "$name: debootstrap from $mirror (log: $log)"
	run_logged "$log" "debootstrap $name" \
		debootstrap --variant=minbase "$suite" "$dir" "$mirror"

	# Snapshot mirrors serve Release files past their Valid-Until date (sid's is a week).
	printf 'Acquire::Check-Valid-Until "false";\n' >"$dir/etc/apt/apt.conf.d/99pyrace"
	printf 'deb %s %s main\n' "$mirror" "$suite" >"$dir/etc/apt/sources.list"
	cp -L /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
	mount -t proc proc "$dir/proc"
	MOUNTS+=("$dir/proc")
	run_logged "$log" "apt-get update in $name" in_chroot "$dir" apt-get update
	if [[ $name == trixie-ft ]]; then
		build_free_threaded "$name" "$dir" "$log" "$mirror"
	else
		echo "$name: installing python$py python$py-dbg"
		run_logged "$log" "installing python$py in $name" in_chroot "$dir" \
			apt-get install -y --no-install-recommends "python$py" "python$py-dbg"
	fi
	run_logged "$log" "apt-get clean in $name" in_chroot "$dir" apt-get clean
	local version
	if ! version=$(in_chroot "$dir" "$python" -c \
		'import platform; print(platform.python_version())' 2>>"$log"); then
		echo "error: $python does not run in the $name chroot" >&2
		log_tail "$log"
		exit 1
	fi
	cleanup

	{
		stamp_header "$name"
		echo "python=$python version=$version"
		if [[ $name == trixie-ft ]]; then
			cat "$dir$FT_PREFIX/pyrace-source"
		else
			# shellcheck disable=SC2016
			in_chroot "$dir" dpkg-query -W -f '${Package} ${Version}\n' "python$py" \
				"python$py-minimal" "libpython$py-minimal" "libpython$py-stdlib" \
				"python$py-dbg" "libpython$py-dbg" 2>/dev/null || true
		fi
	} >"$CACHE/$name.stamp.tmp"
	mv "$CACHE/$name.stamp.tmp" "$CACHE/$name.stamp"
	echo "$name: done in $((SECONDS - t0)) s"
}

# The free-threaded interpreter: trixie's python3.13 source package (Debian's patches applied)
# configured upstream's way with --disable-gil, -g -O2 and no PGO/LTO, installed unstripped
# (its DWARF is pyrace's source of struct layouts and probe registers) under FT_PREFIX.
build_free_threaded() { # NAME DIR LOG MIRROR
	local name=$1 dir=$2 log=$3 mirror=$4 t0=$SECONDS
	printf 'deb-src %s trixie main\n' "$mirror" >>"$dir/etc/apt/sources.list"
	run_logged "$log" "apt-get update (deb-src) in $name" in_chroot "$dir" apt-get update
	echo "$name: installing the compiler and build dependencies"
	# The core interpreter and the extensions pyrace's tests use (_thread, _queue, ctypes, zlib);
	# no ssl, sqlite, tk, readline: the programs traced do not need them.
	run_logged "$log" "installing build dependencies in $name" in_chroot "$dir" \
		apt-get install -y --no-install-recommends gcc make libc6-dev dpkg-dev xz-utils \
		pkg-config libffi-dev zlib1g-dev libexpat1-dev
	echo "$name: fetching the python3.13 source package"
	mkdir -p "$dir/usr/src/python"
	run_logged "$log" "apt-get source python3.13 in $name" in_chroot "$dir" \
		sh -c 'cd /usr/src/python && apt-get source --only-source python3.13'
	local src
	src=$(cd "$dir/usr/src/python" && ls -d python3.13-*/ 2>/dev/null | head -n 1)
	if [[ -z $src || ! -x $dir/usr/src/python/$src/configure ]]; then
		echo "error: no unpacked python3.13 source tree in $dir/usr/src/python" >&2
		log_tail "$log"
		exit 1
	fi
	# POSIX semaphores (configure probes sem_open) need a writable /dev/shm.
	mkdir -p "$dir/dev/shm"
	mount -t tmpfs shm "$dir/dev/shm"
	MOUNTS+=("$dir/dev/shm")
	echo "$name: configure --disable-gil, make -j$(nproc) (log: $log)"
	run_logged "$log" "configure in $name" in_chroot "$dir" sh -c \
		"cd /usr/src/python/$src && OPT='-DNDEBUG -g -O2 -Wall' ./configure --disable-gil \
		--prefix=$FT_PREFIX --with-system-expat --without-ensurepip"
	run_logged "$log" "make in $name" in_chroot "$dir" sh -c \
		"cd /usr/src/python/$src && make -j$(nproc)"
	run_logged "$log" "make install in $name" in_chroot "$dir" sh -c \
		"cd /usr/src/python/$src && make install"
	local version
	version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$dir/usr/src/python/$src/debian/changelog")
	echo "python3.13 source $version" >"$dir$FT_PREFIX/pyrace-source"
	# The build tree is not needed any more (the DWARF names its sources, which stay for gdb).
	in_chroot "$dir" sh -c "cd /usr/src/python/$src && make clean" >>"$log" 2>&1 || true
	if ! in_chroot "$dir" "$FT_PREFIX/bin/python3.13t" -c \
		'import sys, _thread, _queue, threading, ctypes; assert not sys._is_gil_enabled()' \
		>>"$log" 2>&1; then
		echo "error: $FT_PREFIX/bin/python3.13t is not a working free-threaded build" >&2
		log_tail "$log"
		exit 1
	fi
	echo "$name: built in $((SECONDS - t0)) s"
}

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
	echo "waiting for another setup run to finish"
	flock 9
fi

for name in "${names[@]}"; do
	is_complete "$name" || build "$name"
done

for name in "${names[@]}"; do
	version=$(sed -n 's/^python=.* version=//p' "$CACHE/$name.stamp")
	echo "$name $CACHE/$name$(interpreter_of "$name") $version"
done
