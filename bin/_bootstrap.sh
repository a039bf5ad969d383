# shellcheck shell=bash
# Sourced by every bin/ script: makes sure the buildpack's own Python
# dependencies (requirements/buildpack.txt) are installed in a tools directory
# that belongs to the buildpack, then runs the CLI with them.
#
# Why not the system's pip: the build image's python3 may be a distribution's
# (PEP 668 refuses installs) and the host may carry a global pip configuration
# (extra indexes, constraints) that must not leak into our install.

BP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BP_TOOLS_DIR="${BUILDPACK_TOOLS_DIR:-$BP_DIR/.tools}"
# The packaged buildpack (make package) carries its dependencies in vendor/
# and names there the interpreter they were made for: nothing to install.
BP_PACKAGED_MARKER="$BP_DIR/vendor/packaged-for"
# Said on stderr by the commands that build, when the tools are not where
# the buildpack keeps them by default.
BP_TOOLS_NOTE=""

bootstrap::python3() {
	local candidate
	for candidate in "${BUILDPACK_PYTHON:-}" python3; do
		[[ -n "$candidate" ]] || continue
		if command -v "$candidate" >/dev/null 2>&1 &&
			"$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
			command -v "$candidate"
			return 0
		fi
	done
	echo " !     The buildpack needs python3 >= 3.9 on PATH to run; none was found." >&2
	return 1
}

# A stamp of the pinned requirements: when they change, the tools are
# installed afresh (so is a tools dir whose interpreter is gone).
bootstrap::stamp() {
	sha256sum "$BP_DIR/requirements/buildpack.txt" | cut -c1-16
}

bootstrap::tools_ready() {
	[[ -x "$BP_TOOLS_DIR/venv/bin/python" && "$(cat "$BP_TOOLS_DIR/stamp" 2>/dev/null)" == "$1" ]]
}

# Runs pip in isolation from the host's pip configuration. The system CA bundle
# is passed explicitly because HTTPS to the registry may go through a proxy
# whose CA only the system bundle trusts.
bootstrap::isolated_pip() {
	local python="$1"
	shift
	local cert=()
	[[ -r /etc/ssl/certs/ca-certificates.crt ]] && cert=(--cert /etc/ssl/certs/ca-certificates.crt)
	env $(env | grep -o '^PIP_[A-Za-z0-9_]*' | sed 's/^/-u /') \
		PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONNOUSERSITE=1 \
		"$python" -m pip "$@" "${cert[@]}"
}

bootstrap::install() {
	local python="$1" stamp="$2" staging log
	mkdir -p "$(dirname "$BP_TOOLS_DIR")"
	staging="$(mktemp -d "${BP_TOOLS_DIR}.staging.XXXXXX")"
	log="$staging.log"
	if "$python" -m venv "$staging/venv" >"$log" 2>&1 &&
		bootstrap::isolated_pip "$staging/venv/bin/python" install --quiet \
			--requirement "$BP_DIR/requirements/buildpack.txt" >>"$log" 2>&1; then
		echo "$stamp" >"$staging/stamp"
		rm -rf "$BP_TOOLS_DIR.old"
		[[ -e "$BP_TOOLS_DIR" ]] && mv "$BP_TOOLS_DIR" "$BP_TOOLS_DIR.old"
		mv "$staging" "$BP_TOOLS_DIR"
		rm -rf "$BP_TOOLS_DIR.old" "$log"
		return 0
	fi
	{
		echo " !     Could not install the buildpack's own dependencies (requirements/buildpack.txt)."
		echo " !     The package registry must be reachable and '$python -m venv' must work."
		sed 's/^/       /' "$log"
	} >&2
	rm -rf "$staging" "$log"
	return 1
}

# True when DIR can be made (or is) a directory of ours to write: its nearest
# existing ancestor is a writable directory, and an existing DIR is owned by
# us (a shared /tmp must not hand us a tools dir someone else planted).
bootstrap::can_write() {
	local dir="$1" existing="$1"
	while [[ ! -e "$existing" ]]; do existing="$(dirname "$existing")"; done
	[[ -d "$existing" && -w "$existing" && -x "$existing" ]] || return 1
	[[ ! -e "$dir" || -O "$dir" ]]
}

# A fallback place is used only when it and its parent (ours to create, in a
# shared TMPDIR) belong to us when they exist: whoever owns them could swap
# the tools that every build then runs.
bootstrap::ours() {
	local dir
	for dir in "$1" "$(dirname "$1")"; do
		[[ ! -e "$dir" || -O "$dir" ]] || return 1
	done
}

# The writable places for the tools when the default one is not writable
# (a read-only buildpack, as kpack and herokuish install it, run as non-root).
bootstrap::fallback_dirs() {
	local stamp="$1" cache_home="${XDG_CACHE_HOME:-}"
	[[ -z "$cache_home" && -n "${HOME:-}" ]] && cache_home="$HOME/.cache"
	[[ -n "$cache_home" ]] && echo "$cache_home/leanengine-python-buildpack/tools-$stamp"
	echo "${TMPDIR:-/tmp}/leanengine-python-buildpack-$(id -u)/tools-$stamp"
}

# Sets BP_TOOLS_DIR to a directory the tools are in or can be installed to.
bootstrap::choose_tools_dir() {
	local stamp="$1" default="$BP_TOOLS_DIR" reason candidate tried=()
	bootstrap::tools_ready "$stamp" && return 0
	bootstrap::can_write "$BP_TOOLS_DIR" && return 0
	if [[ -n "${BUILDPACK_TOOLS_DIR:-}" ]]; then
		reason="BUILDPACK_TOOLS_DIR ($default) is not writable"
	else
		reason="the buildpack directory ($BP_DIR) is not writable"
	fi
	tried=("$default")
	while read -r candidate; do
		BP_TOOLS_DIR="$candidate"
		if bootstrap::ours "$candidate" && { bootstrap::tools_ready "$stamp" || bootstrap::can_write "$candidate"; }; then
			BP_TOOLS_NOTE="       Buildpack tools in $candidate: $reason (BUILDPACK_TOOLS_DIR sets the place)"
			return 0
		fi
		tried+=("$candidate")
	done < <(bootstrap::fallback_dirs "$stamp")
	{
		echo " !     The buildpack has nowhere to install its own tools (requirements/buildpack.txt)."
		echo " !     It needs one writable directory, owned by this user ($(id -un 2>/dev/null || id -u)); none of these is:"
		printf ' !       %s\n' "${tried[@]}"
		echo " !     Fix: set BUILDPACK_TOOLS_DIR to a writable directory, or install the packaged"
		echo " !     buildpack (make package), which needs none."
	} >&2
	return 1
}

# The fast path (tools ready) starts no interpreter: it runs on every build.
bootstrap::ensure_tools() {
	local python stamp lock_fd
	stamp="$(bootstrap::stamp)"
	bootstrap::choose_tools_dir "$stamp" || return 1
	bootstrap::tools_ready "$stamp" && return 0
	python="$(bootstrap::python3)" || return 1
	mkdir -p "$(dirname "$BP_TOOLS_DIR")" || return 1
	# Concurrent builds share the tools dir: one installs, the others wait.
	# (bash's own message is silenced: ours says what to do.)
	if ! { exec {lock_fd}>"$BP_TOOLS_DIR.lock"; } 2>/dev/null; then
		echo " !     Cannot create $BP_TOOLS_DIR.lock; set BUILDPACK_TOOLS_DIR to a writable directory." >&2
		return 1
	fi
	flock "$lock_fd"
	if ! bootstrap::tools_ready "$stamp"; then
		bootstrap::install "$python" "$stamp" || { flock -u "$lock_fd"; return 1; }
	fi
	flock -u "$lock_fd"
}

# The packaged buildpack's interpreter: the build image's python3 of the
# version its vendored packages were made for. PyYAML's C extension and the
# bytecode of lib/ and vendor/ exist for that one CPython minor only.
bootstrap::packaged_python() {
	local wanted version candidate tag found=()
	{ read -r wanted && read -r version; } <"$BP_PACKAGED_MARKER"
	for candidate in "${BUILDPACK_PYTHON:-}" python3; do
		[[ -n "$candidate" ]] || continue
		command -v "$candidate" >/dev/null 2>&1 || { found+=("$candidate: not found"); continue; }
		tag="$("$candidate" -I -S -c 'import sys; print(sys.implementation.cache_tag)' 2>/dev/null)" || tag="?"
		if [[ "$tag" == "$wanted" ]]; then
			command -v "$candidate"
			return 0
		fi
		found+=("$(command -v "$candidate"): $tag")
	done
	{
		echo " !     This packaged buildpack runs on CPython $version ($wanted): its vendored"
		echo " !     dependencies and bytecode were made for that version only. Found:"
		printf ' !       %s\n' "${found[@]}"
		echo " !     Fix: set BUILDPACK_PYTHON to a python$version of the build image, or package the"
		echo " !     buildpack for the image's python3 (make package PYTHON=python3.X), or use a source checkout."
	} >&2
	return 1
}

# Runs the CLI from the packaged buildpack: vendor/ before the stdlib, no site
# (-S: a distribution's dist-packages must not shadow the pinned packages),
# the precompiled bytecode beside the sources (nothing is written).
bootstrap::run_packaged() {
	local python stamp candidate
	python="$(bootstrap::packaged_python)" || exit 1
	# Poetry and Pipenv are still installed on first use (an app with their
	# lock): they need a writable place, chosen like the tools'.
	if [[ -z "${BUILDPACK_TOOLS_DIR:-}" ]] || ! bootstrap::can_write "$BUILDPACK_TOOLS_DIR"; then
		stamp="$(bootstrap::stamp)"
		while read -r candidate; do
			if bootstrap::ours "$candidate" && bootstrap::can_write "$candidate"; then
				export BUILDPACK_TOOLS_DIR="$candidate"
				break
			fi
		done < <(bootstrap::fallback_dirs "$stamp")
	fi
	exec "$python" -I -S -c \
		'import sys; sys.path[0:0] = sys.argv[1:3]; del sys.argv[1:3]; from python_buildpack.cli import main; sys.exit(main(sys.argv[1:]))' \
		"$BP_DIR/lib" "$BP_DIR/vendor" "$@"
}

# Runs a CLI command of the buildpack with its own interpreter and libraries.
bootstrap::run() {
	[[ -f "$BP_PACKAGED_MARKER" ]] && bootstrap::run_packaged "$@"
	bootstrap::ensure_tools || exit 1
	# Only the build says where the tools are: detect must stay silent.
	[[ -n "$BP_TOOLS_NOTE" && ( "${1:-}" == compile || "${1:-}" == cnb-build ) ]] && echo "$BP_TOOLS_NOTE" >&2
	# -I: the user's PYTHON* variables must not reach the buildpack's own
	# interpreter; lib/ is put on sys.path explicitly instead of PYTHONPATH so
	# nothing leaks into the subprocesses the build starts. The bytecode of
	# lib/ goes to the tools dir, never beside the sources (which may be
	# read-only): compiling them afresh cost every command about 0.15 s.
	exec "$BP_TOOLS_DIR/venv/bin/python" -I -X pycache_prefix="$BP_TOOLS_DIR/pycache" -c \
		'import sys; sys.path.insert(0, sys.argv.pop(1)); from python_buildpack.cli import main; sys.exit(main(sys.argv[1:]))' \
		"$BP_DIR/lib" "$@"
}
