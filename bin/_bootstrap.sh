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

# The fast path (tools ready) starts no interpreter: it runs on every build.
bootstrap::ensure_tools() {
	local python stamp
	stamp="$(bootstrap::stamp)"
	bootstrap::tools_ready "$stamp" && return 0
	python="$(bootstrap::python3)" || return 1
	mkdir -p "$(dirname "$BP_TOOLS_DIR")"
	# Concurrent builds share the tools dir: one installs, the others wait.
	exec {lock_fd}>"$BP_TOOLS_DIR.lock"
	flock "$lock_fd"
	if ! bootstrap::tools_ready "$stamp"; then
		bootstrap::install "$python" "$stamp" || { flock -u "$lock_fd"; return 1; }
	fi
	flock -u "$lock_fd"
}

# Runs a CLI command of the buildpack with its own interpreter and libraries.
bootstrap::run() {
	bootstrap::ensure_tools || exit 1
	# -I: the user's PYTHON* variables must not reach the buildpack's own
	# interpreter; lib/ is put on sys.path explicitly instead of PYTHONPATH so
	# nothing leaks into the subprocesses the build starts. The bytecode of
	# lib/ goes to the tools dir, never beside the sources (which may be
	# read-only): compiling them afresh cost every command about 0.15 s.
	exec "$BP_TOOLS_DIR/venv/bin/python" -I -X pycache_prefix="$BP_TOOLS_DIR/pycache" -c \
		'import sys; sys.path.insert(0, sys.argv.pop(1)); from python_buildpack.cli import main; sys.exit(main(sys.argv[1:]))' \
		"$BP_DIR/lib" "$@"
}
