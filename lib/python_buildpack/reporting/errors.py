"""Every user-facing failure of the buildpack, and all of their text.

A `BuildpackError` carries a stable code (``area::what``), a one-line title,
what was found and how to fix it. Only the CLI layer turns one into output and
an exit code; modules raise them through the constructors below so that all
message prose lives in this one file.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

# What a message reads of a stage's findings. The catalogue sits below every
# stage, so it names their shapes, not their types (leanengine_yaml.BadValue,
# pip_failures.Diagnosis fit them).


class BadValue(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def line(self) -> int | None: ...
    @property
    def required(self) -> str: ...
    @property
    def found(self) -> Any: ...


class Diagnosis(Protocol):
    @property
    def cause(self) -> str: ...
    @property
    def requirement(self) -> str | None: ...
    @property
    def quoted(self) -> tuple[str, ...]: ...
    @property
    def url(self) -> str | None: ...
    @property
    def ref(self) -> str | None: ...
    @property
    def release(self) -> str | None: ...
    @property
    def pip_limit(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...


class PackageLimit(Protocol):
    @property
    def releases(self) -> str: ...
    @property
    def python(self) -> object: ...
    @property
    def reason(self) -> str: ...
    @property
    def source(self) -> str: ...


REDACTED = "[redacted]"  # what stands for a secret in all output


class BuildpackError(Exception):
    """A failure the user can fix: never printed with a traceback."""

    def __init__(self, code: str, title: str, detail: str = "", hint: str = "") -> None:
        super().__init__(title)
        self.code = code
        self.title = title
        self.detail = detail
        self.hint = hint


def visible(value: str, limit: int = 80) -> str:
    """Quote a user value in double quotes, invisible characters made visible (\\u200b)."""
    shown = value if len(value) <= limit else value[:limit]
    escaped = "".join(
        char if char.isprintable() and char not in '"\\' else
        ("\\" + char if char in '"\\' else char.encode("unicode_escape").decode("ascii"))
        for char in shown
    )
    return f'"{escaped}"' + ("…" if len(value) > limit else "")


def describe(value: object) -> str:
    """A short, bounded description of a YAML value (aliases could make repr explode)."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, dict):
        return f"a mapping with keys {', '.join(visible(str(k), 20) for k in list(value)[:5])}"
    return "nothing" if value is None else type(value).__name__


def printable(value: str, limit: int = 300) -> str:
    """A user's line shown as it is (no quotes added), invisible characters made visible."""
    shown = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
                    for char in value[:limit])
    return shown + ("…" if len(value) > limit else "")


def told(who: str, lines: Iterable[str]) -> str:
    """` {who} says:` and the lines, indented; "" when there are none."""
    quoted = "\n".join(f"  {printable(line)}" for line in lines)
    return f" {who} says:\n{quoted}" if quoted else ""


def bullet_list(items: Iterable[str]) -> str:
    return "\n".join(f"  - {item}" for item in items)


# --- command line -----------------------------------------------------------


def usage(command: str, synopsis: str) -> BuildpackError:
    return BuildpackError(
        "cli::usage",
        f"Wrong arguments for {command}",
        f"Usage: {synopsis}",
    )


def build_dir_missing(path: str) -> BuildpackError:
    return BuildpackError(
        "cli::build-dir-missing",
        "The build directory does not exist",
        f"Found no directory at {visible(path)}.",
        "Pass the app's source directory as the first argument.",
    )


def cache_dir_unwritable(path: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "cli::cache-dir-unwritable",
        "The cache directory cannot be written",
        f"{visible(path)}: {reason}. The build keeps its layers and logs there, as the user it runs as.",
        "Pass a directory this user may create or write as the second argument (CACHE_DIR).",
    )


def env_dir_unreadable(path: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "env-dir::unreadable",
        "The environment directory cannot be read",
        f"ENV_DIR {visible(path)}: {reason}.",
        "ENV_DIR must be a directory with one file per variable (name = variable, content = value).",
    )


# --- leanengine.yaml ----------------------------------------------------------


def yaml_unreadable(reason: str) -> BuildpackError:
    return BuildpackError(
        "leanengine-yaml::unreadable",
        "leanengine.yaml cannot be read",
        reason,
        "Save leanengine.yaml as a UTF-8 text file of YAML mappings, e.g.\n  run: python app.py",
    )


def yaml_syntax(line: int | None, problem: str) -> BuildpackError:
    return BuildpackError(
        "leanengine-yaml::syntax",
        "leanengine.yaml is not valid YAML",
        f"{_yaml_where(line)}: {problem}",
        "Fix the YAML syntax; an online YAML checker shows the exact spot.",
    )


# A file with more wrong values than this is listed in part (the count is given).
_MAX_BAD_VALUES_SHOWN = 20


def yaml_bad_values(problems: Sequence[BadValue], unknown_keys: Sequence[str] = ()) -> BuildpackError:
    """Every wrong value of the file, in the order given (file order), then the
    warnings about its unknown keys."""
    lines = [f'{_yaml_where(p.line)}: "{p.path}" must be {p.required}, got {describe(p.found)}'
             for p in problems[:_MAX_BAD_VALUES_SHOWN]]
    if len(problems) > _MAX_BAD_VALUES_SHOWN:
        lines.append(f"... and {len(problems) - _MAX_BAD_VALUES_SHOWN} more.")
    lines += unknown_keys[:_MAX_BAD_VALUES_SHOWN]
    if len(problems) == 1:
        title, hint = (f'leanengine.yaml: "{problems[0].path}" has a wrong value',
                       f'Correct "{problems[0].path}" in leanengine.yaml.')
    else:
        title, hint = (f"leanengine.yaml has {len(problems)} wrong values",
                       "Correct each of them in leanengine.yaml: these are all the file's wrong values.")
    return BuildpackError("leanengine-yaml::bad-value", title, "\n".join(lines), hint)


def _yaml_where(line: int | None) -> str:
    return f"leanengine.yaml line {line}" if line else "leanengine.yaml"


def runtime_not_python(runtime: str) -> BuildpackError:
    return BuildpackError(
        "leanengine-yaml::other-runtime",
        "leanengine.yaml names another runtime",
        f"runtime: {visible(runtime)} is not handled by the Python buildpack.",
        "Remove the runtime key or set `runtime: python` to build this app as Python.",
    )


# --- the app's source ---------------------------------------------------------


_NO_ENTRY_POINT = ("Found neither wsgi.py in the app's root, nor a `run:` command in leanengine.yaml,"
                   " nor a `web:` line in a Procfile.")


def no_entry_point() -> BuildpackError:
    return BuildpackError(
        "app::no-entry-point",
        "The app has no web entry point",
        _NO_ENTRY_POINT,
        "Add wsgi.py with a global WSGI callable named `application`, e.g.\n"
        "  from app import app\n  application = app\n"
        "or set the start command in leanengine.yaml, e.g.\n  run: python app.py\n"
        "or in a Procfile (Heroku's convention), e.g.\n  web: gunicorn app:app --bind 0.0.0.0:$PORT",
    )


def procfile_unreadable(reason: str) -> BuildpackError:
    return BuildpackError(
        "app::procfile-unreadable",
        "The Procfile cannot be read",
        f"Procfile: {reason}.",
        "Write it as UTF-8 text, one `name: command` per line, e.g.\n"
        "  web: gunicorn app:app --bind 0.0.0.0:$PORT",
    )


def no_application(entry: str = "wsgi.py") -> BuildpackError:
    return BuildpackError(
        "app::no-application",
        f"{entry} does not define `application`",
        f"The platform serves the global `application` of {entry}, and {entry} defines none"
        " at its top level (no assignment, def, class or import of that name).",
        "Expose your WSGI app under that name, e.g. for Flask:\n"
        "  from app import app\n  application = app",
    )


_APP_KINDS = ("a WSGI callable taking (environ, start_response) (Flask, Django's"
              " get_wsgi_application()), an ASGI 3 app: an `async def` taking (scope, receive, send)"
              " or an object whose `__call__` is one (FastAPI, Starlette, Django's"
              " get_asgi_application()), or a tornado.web.Application")


def not_an_application(entry: str, found: str) -> BuildpackError:
    return BuildpackError(
        "app::not-an-application",
        f"`application` in {entry} is not a web app the platform can serve",
        f"Found {printable(found)}.\nRequired: {_APP_KINDS}.",
        "Assign the app object itself, e.g. for FastAPI:\n"
        "  from main import app\n  application = app\n"
        "not its class (`FastAPI` instead of `FastAPI()`), a string naming it, or its module.",
    )


def asgi_wrong_arity(entry: str, found: str) -> BuildpackError:
    return BuildpackError(
        "app::asgi-wrong-arity",
        f"`application` in {entry} is a coroutine function, but not an ASGI 3 app",
        f"Found {printable(found)}.\nRequired: ASGI 3 apps take exactly three arguments,"
        " (scope, receive, send).",
        "Define it as\n  async def application(scope, receive, send): ...\n"
        "or assign your framework's app object (FastAPI(), Starlette(), get_asgi_application()).",
    )


def link_leaves_app(name: str) -> BuildpackError:
    return BuildpackError(
        "app::unsafe-file",
        f"{name} is a link that leads out of the app",
        f"{name} is a symbolic link to a file outside the app's directory; the build reads only"
        " the app's own files.",
        f"Replace {name} with a regular file (or a link inside the app).",
    )


def file_not_regular(name: str) -> BuildpackError:
    return BuildpackError(
        "app::unsafe-file",
        f"{name} is not a regular file of the app",
        f"{name} is a symbolic link or special file; the build reads only files inside the app.",
        f"Replace {name} with a regular file.",
    )


# --- Python version -----------------------------------------------------------


def python_version_unreadable(name: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "python-version::unreadable",
        f"{name} cannot be read",
        reason,
        "Write the version as plain text on one line, e.g.\n  3.12",
    )


def python_version_invalid(value: str, origin: str) -> BuildpackError:
    return BuildpackError(
        "python-version::invalid",
        "The Python version is not valid",
        f"Found {visible(value)} in {origin}.",
        "Use a CPython version as pyenv writes it: `3.12` (newest 3.12.x) or `3.12.1` (exact).",
    )


def python_version_empty(name: str) -> BuildpackError:
    return BuildpackError(
        "python-version::empty",
        f"{name} is empty",
        f"{name} names no version: it is empty, or holds only blank lines and comments. pyenv"
        " reads such a file as `system`, the machine's own Python, which the platform does not"
        " have.",
        "Write the CPython version you develop with on its first line, e.g.\n  3.12\n"
        f"or delete {name} to get the platform's default version.",
    )


def python_version_system(origin: str) -> BuildpackError:
    return BuildpackError(
        "python-version::system",
        "`system` is not a version the platform can install",
        f"Found 'system' in {origin}: pyenv's name for the machine's own Python, which the"
        " platform does not have.",
        "Name the CPython version you develop with, e.g.\n  3.12",
    )


def python_version_unsupported_implementation(value: str, origin: str) -> BuildpackError:
    return BuildpackError(
        "python-version::unsupported-implementation",
        "Only CPython is supported",
        f"Found {visible(value)} in {origin}: PyPy, Jython, IronPython, GraalPy, conda"
        " distributions and other implementations are not available on this platform.",
        "Use a CPython version, e.g.\n  3.12",
    )


def python_version_not_available(
    requested: str, origin: str, written: str | None, same_line: list[str], all_versions: list[str]
) -> BuildpackError:
    if same_line:
        detail = f"Versions of that line in the mirror: {', '.join(same_line)}."
        line = ".".join(same_line[0].split(".")[:2])
        hint = f"Use `{line}` in .python-version to get the newest {line}.x, or one listed above."
    else:
        detail = f"Versions in the mirror: {', '.join(all_versions) or '(none)'}."
        hint = "Use one of the versions listed above."
    return BuildpackError(
        "python-version::not-available",
        f"Python {requested} is not available",
        f"{origin} asks for Python {requested}{_as_written(requested, written)}. {detail}",
        hint,
    )


def _as_written(version: str, written: str | None) -> str:
    """The file's own text, when it is not the version itself (`python-3.10.0`)."""
    return f" (it says {visible(written)})" if written and written != version else ""


# --- dependency manifests and locks ----------------------------------------------


def manifest_unreadable(name: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "manifest::unreadable",
        f"{name} cannot be read",
        f"{name}: {reason}.",
        f"Upload {name} as the tool that manages it wrote it (UTF-8 text).",
    )


def manifest_syntax(name: str, line: int | None, problem: str) -> BuildpackError:
    where = f"{name} line {line}" if line else name
    kind = "JSON" if name.endswith(".lock") and name.startswith("Pipfile") else "TOML"
    return BuildpackError(
        "manifest::syntax",
        f"{name} is not valid {kind}",
        f"{where}: {printable(problem)}",
        f"Fix {name} at that line; a file its tool wrote is always valid, so regenerate it if you edited it.",
    )


def several_managers(files: Sequence[str]) -> BuildpackError:
    return BuildpackError(
        "manifest::several-managers",
        "The app has more than one dependency lock",
        f"Found {', '.join(files)}. Each says what to install; the build cannot tell which one is meant.",
        "Keep the lock of the tool you use and delete the others. A requirements.txt may stay beside"
        " a lock only as its export (`uv export`, `poetry export`, `pipenv requirements`).",
    )


def pipfile_without_lock() -> BuildpackError:
    return BuildpackError(
        "manifest::pipfile-without-lock",
        "Pipfile has no Pipfile.lock",
        "The app declares its packages in a Pipfile but did not upload the Pipfile.lock that pins them;"
        " installing the Pipfile would resolve the versions anew on every build.",
        "Run `pipenv lock` and upload Pipfile.lock with the Pipfile.",
    )


def pyproject_without_project() -> BuildpackError:
    return BuildpackError(
        "manifest::no-project",
        "pyproject.toml declares no dependencies",
        "There is no requirements.txt or lock, and pyproject.toml has no [project] table"
        " (nor [tool.poetry]) to install the app from.",
        "Add a [project] table with `dependencies = [...]`, then lock it (`uv lock`);"
        " or add a requirements.txt.",
    )


def lock_without_declaration(lock: str, declared: str, command: str) -> BuildpackError:
    return BuildpackError(
        "manifest::lock-without-declaration",
        f"{lock} came without {declared}",
        f"{lock} is checked against {declared}, which it was made from; {declared} is not in the app.",
        f"Upload {declared} with {lock} (and run `{command}` if you changed it).",
    )


def manifest_bad_python(origin: str, declared: str) -> BuildpackError:
    return BuildpackError(
        "manifest::bad-python",
        f"The Python requirement in {origin} is not valid",
        f"Found {visible(declared)}.",
        'Write it as a version specifier, e.g. `requires-python = ">=3.11"`.',
    )


def python_outside_requires(version: str, origin: str, specifier: str, declared_in: str) -> BuildpackError:
    return BuildpackError(
        "python-version::outside-requires-python",
        f"Python {version} does not satisfy {declared_in}",
        f"{origin} asks for Python {version}; {declared_in} requires Python {specifier}.",
        f"Change the version in {origin}, or requires-python in {declared_in}, so that they agree.",
    )


def python_not_in_lock(version: str, lock: str, specifier: str, command: str) -> BuildpackError:
    return BuildpackError(
        "lock::python-mismatch",
        f"{lock} was not made for Python {version}",
        f"{lock} records Python {specifier}; the build chose Python {version}. Its pins may not"
        " install (or not work) on this version.",
        f"Pin a version that {lock} allows in .python-version, or widen the Python requirement"
        f" and run `{command}`.",
    )


def python_version_incompatible_package(version: str, origin: str, row: PackageLimit,
                                        fix_line: str | None) -> BuildpackError:
    package = row.releases
    fix = (f"Put `{fix_line}` in {origin} (the newest line in the mirror on which {package} installs),"
           f" or drop {package} from the app's dependencies." if fix_line else
           f"The mirror has no Python on which {package} installs ({row.python}): add one, or drop"
           f" {package} from the app's dependencies.")
    return BuildpackError(
        "python-version::incompatible-package",
        f"{package} does not install on Python {version}",
        f"{origin} asks for Python {version}; {package} installs on Python {row.python} only:"
        f" {row.reason} (source: {row.source}). Stopped before installing anything.",
        fix,
    )


def netrc_invalid(line: int | None) -> BuildpackError:
    where = f" (line {line})" if line else ""
    return BuildpackError(
        "env::bad-netrc",
        "NETRC in the app's environment is not a .netrc file",
        f"NETRC must hold the content of a .netrc file, not a path; it could not be read as one{where}."
        " Its value is not shown: it holds credentials.",
        "Set NETRC to lines such as\n  machine pypi.example.com login deploy password <token>",
    )


def index_refused(host: str, status: int, setting: str, installer: str) -> BuildpackError:
    answer = "401: the credentials are wrong or missing" if status == 401 else \
        "403: the credentials are not allowed to read it"
    return BuildpackError(
        "pip::index-auth-refused",
        f"The package index at {host} refused the build's credentials",
        f"{installer} found nothing there because {host} answered {answer}. The index is set by"
        f" {setting} in the app's environment.",
        f"Check the user and password (or token) for {host}: in the URL of {setting} (as"
        " USER:TOKEN before the host, the token URL-encoded), in NETRC, or in"
        " UV_INDEX_<NAME>_USERNAME and UV_INDEX_<NAME>_PASSWORD.",
    )


# --- git requirements (install/git_access, install/vcs_refs) -------------------

_GIT_CREDENTIALS_EXAMPLE = "  https://USER:TOKEN@git.example.com"
_KNOWN_HOSTS_HINT = (
    "Set SSH_KNOWN_HOSTS in the app's environment to the host's public key lines, as"
    " `ssh-keyscan` prints them:\n  ssh-keyscan -p PORT HOST\n(omit -p for port 22). Check the"
    " fingerprints (`ssh-keygen -lf` of those lines) against the ones your git host publishes."
    " The build never turns host-key checking off.")


def git_credentials_invalid(line: int) -> BuildpackError:
    return BuildpackError(
        "git::bad-credentials",
        "GIT_CREDENTIALS in the app's environment is not in git's credential-store format",
        f"Line {line} is not a URL with a user and a password (or token) before the host. Its value"
        " is not shown: it holds credentials.",
        f"Write one line per git host, e.g.\n{_GIT_CREDENTIALS_EXAMPLE}\n(the token URL-encoded when it"
        " holds `@`, `:` or `/`).",
    )


def ssh_key_invalid(reason: str) -> BuildpackError:
    return BuildpackError(
        "git::bad-ssh-key",
        "SSH_PRIVATE_KEY in the app's environment is not a usable private key",
        f"The key could not be read: {reason}. Its value is not shown.",
        "Make a deploy key without a passphrase (`ssh-keygen -t ed25519 -N '' -f deploy_key`), give the"
        " repository its public half (deploy_key.pub) with read access, and set SSH_PRIVATE_KEY to the"
        " whole content of deploy_key (or its base64).",
    )


def git_no_known_hosts(requirements: Sequence[str]) -> BuildpackError:
    return BuildpackError(
        "git::no-known-hosts",
        "git+ssh requirements need the SSH host keys of their hosts",
        "The requirements fetch over SSH, and SSH_KNOWN_HOSTS is not set in the app's environment,"
        " so the build cannot check that it talks to the real host:\n" + bullet_list(requirements),
        _KNOWN_HOSTS_HINT,
    )


def git_ref_not_found(requirement: str, ref: str, host: str) -> BuildpackError:
    return BuildpackError(
        "git::ref-not-found",
        f"The git repository at {host} has no branch or tag `{ref}`",
        f"`git ls-remote` lists no ref named `{ref}` for git+{requirement}.",
        "Check the ref after `@` in the requirement: a branch, a tag or a full commit hash that is"
        " pushed, e.g. `name @ git+https://host/org/repo.git@v1.2.0`.",
    )


_GIT_FAILURES = {
    "auth-refused": ("{host} refused the build's credentials for the repository", "{auth}"),
    "host-key-unknown": ("The SSH host key of {host} is not the one in SSH_KNOWN_HOSTS",
                         "ssh found no matching line for the host, or a different key. "
                         + _KNOWN_HOSTS_HINT),
    "repository-not-found": ("{host} has no repository at the requirement's URL",
                             "Check the repository's path in requirements.txt. A host may also answer"
                             " this way when the credentials cannot see the repository: {auth}"),
    "unreachable": ("The build machine could not reach {host}",
                    "Check the URL's host and port, and that the host is reachable from the build"
                    " machine, not only from your own network or VPN."),
    "failed": ("git could not read the repository at {host}",
               "git's lines above say why. Check the URL of the requirement and the credentials"
               " (GIT_CREDENTIALS, SSH_PRIVATE_KEY, SSH_KNOWN_HOSTS)."),
}
_HTTPS_AUTH = (f"set GIT_CREDENTIALS in the app's environment to a line such as\n{_GIT_CREDENTIALS_EXAMPLE}\n"
               "with a token that can read the repository (a read-only deploy token). `${VAR}` in"
               " requirements.txt works too; the build log hides the values.")
_SSH_AUTH = ("give the repository the public half of a deploy key (read access) and set SSH_PRIVATE_KEY in"
             " the app's environment to its private half; check that the URL's user is the one the host"
             " expects (`git@` on most hosts).")


def git_failed(cause: str, requirement: str, host: str, lines: Sequence[str], *, ssh: bool) -> BuildpackError:
    """`git ls-remote` of a git requirement failed; cause: a key of _GIT_FAILURES."""
    title, hint = _GIT_FAILURES[cause]
    auth = _SSH_AUTH if ssh else _HTTPS_AUTH
    return BuildpackError(
        f"git::{cause}",
        title.format(host=host),
        f"git ls-remote of git+{requirement} failed." + told("git", lines),
        hint.format(auth=auth[0].upper() + auth[1:] if cause == "auth-refused" else auth),
    )


def python_version_misspelled_file(found: str, expected: str) -> BuildpackError:
    return BuildpackError(
        "python-version::misspelled-file",
        f"{visible(found)} is not a file the build reads: the name should be {expected}",
        f"The upload has {visible(found)} and no {expected}, so the version in it would be ignored"
        " and the app would build on the default Python instead.",
        f"Rename it:\n  git mv {shlex.quote(found)} {expected}",
    )


def python_none_satisfies(specifier: str, origin: str, all_versions: list[str]) -> BuildpackError:
    return BuildpackError(
        "python-version::not-available",
        f"No Python in the mirror satisfies {origin}",
        f"{origin} requires Python {specifier}."
        f" Versions in the mirror: {', '.join(all_versions) or '(none)'}.",
        "Widen requires-python, or pin one of the versions listed above in .python-version.",
    )


def lock_out_of_date(lock: str, declared: str, command: str, lines: list[str]) -> BuildpackError:
    return BuildpackError(
        "lock::out-of-date",
        f"{lock} is out of date with {declared}",
        f"{declared} changed after {lock} was made, so the lock no longer says what to install."
        + told("The tool", lines[-6:]),
        f"Run `{command}` and upload the new {lock}. (The build never re-resolves a lock by itself.)",
    )


def requirements_differ_from_lock(lock: str, differences: list[str]) -> BuildpackError:
    return BuildpackError(
        "lock::requirements-differ",
        f"requirements.txt and {lock} pin different packages",
        f"Both say what to install, and they disagree:\n{bullet_list(differences[:10])}"
        + (f"\n  ... and {len(differences) - 10} more" if len(differences) > 10 else ""),
        f"Delete requirements.txt (the build installs from {lock}), or export it again from the lock.",
    )


def lock_unusable(lock: str, tool: str, lines: list[str]) -> BuildpackError:
    return BuildpackError(
        "lock::unusable",
        f"{tool} could not read {lock}",
        f"{tool} failed on the app's lock." + told("It", lines[-8:]),
        f"Check {lock} with {tool} on your machine; regenerate it if it was edited by hand.",
    )


# --- runtime mirror -----------------------------------------------------------


def mirror_not_configured() -> BuildpackError:
    return BuildpackError(
        "mirror::not-configured",
        "No Python runtime mirror is configured",
        "PYTHON_RUNTIME_MIRROR is not set in the build's environment.",
        "Set PYTHON_RUNTIME_MIRROR to the URL of a directory with manifest.json and runtime"
        " archives (http://, https:// or file://); bin/package-runtime makes one.",
    )


def mirror_bad_url(url: str) -> BuildpackError:
    return BuildpackError(
        "mirror::bad-url",
        "The runtime mirror URL is not usable",
        f"PYTHON_RUNTIME_MIRROR is {visible(url)}.",
        "Use an http://, https:// or file:// URL of a directory with manifest.json.",
    )


def mirror_unreachable(url: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "mirror::unreachable",
        "The Python runtime mirror cannot be reached",
        f"Fetching {url} failed after retries: {reason}",
        "Check that PYTHON_RUNTIME_MIRROR is right and the mirror is up, then build again.",
    )


def mirror_http_error(url: str, status: int) -> BuildpackError:
    return BuildpackError(
        "mirror::http-error",
        "The Python runtime mirror answered with an error",
        f"GET {url} returned HTTP {status}.",
        "Check that the mirror holds this file (bin/package-runtime writes it), then build again.",
    )


def mirror_bad_manifest(url: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "mirror::bad-manifest",
        "The runtime mirror's manifest.json is not valid",
        f"{url}: {reason}",
        "Regenerate the mirror with bin/package-runtime.",
    )


def mirror_unsafe_url(url: str) -> BuildpackError:
    return BuildpackError(
        "mirror::unsafe-url",
        "The runtime mirror's manifest points outside the mirror",
        f"Archive URL {visible(url)} is neither an absolute http(s) URL nor a path inside the mirror.",
        "Regenerate the mirror with bin/package-runtime.",
    )


def checksum_mismatch(url: str, expected: str, actual: str) -> BuildpackError:
    return BuildpackError(
        "mirror::checksum-mismatch",
        "The downloaded Python runtime is corrupt",
        f"{url}\n  sha256 expected {expected}\n  sha256 received {actual}",
        "The download was damaged or the mirror changed; nothing was kept. Build again, or"
        " regenerate the mirror with bin/package-runtime.",
    )


def archive_unsafe(name: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "runtime::unsafe-archive",
        "The Python runtime archive is unsafe or corrupt",
        f"Entry {visible(name)}: {reason}.",
        "Regenerate the archive with bin/package-runtime.",
    )


def archive_corrupt(reason: str) -> BuildpackError:
    return BuildpackError(
        "runtime::corrupt-archive",
        "The Python runtime archive cannot be unpacked",
        reason,
        "Regenerate the archive with bin/package-runtime.",
    )


# --- installing dependencies ----------------------------------------------------


_PIP_CAUSES = {
    "no-such-package": (
        "{req} is not on the package index",
        "Check the name on https://pypi.org/project/{name}/ (or on your PIP_INDEX_URL); a typo or a"
        " private package without its index are the usual causes."),
    "no-matching-version": (
        "No release of {req} matches",
        "Pick a version the index has for this Python, {python}"
        " (https://pypi.org/project/{name}/#history lists every release; {installer} offers only"
        " those for this Python), or loosen the pin in requirements.txt."),
    "build-failed": (
        "{req} has no wheel for Python {python} here, and building it from source failed",
        "{wheels} {native}"),
    "network": (
        "The package index could not be reached",
        "{installer}'s downloads failed (lines above). Check PIP_INDEX_URL and the index's availability,"
        " then build again."),
    "hash-mismatch": (
        "What the index serves for {req} does not match the hashes in the lock",
        "The lock's hash of a file differs from the file the index serves now (lines above): the lock"
        " was edited, or the index serves another file under the same name. Lock again against the"
        " index the build uses (`uv lock`, `poetry lock`, `pipenv lock`); never edit hashes by hand."),
    "conflict": (
        "The requirements conflict with each other",
        "No set of versions satisfies every pin (the lines above name them). Loosen or remove one"
        " of the conflicting pins in requirements.txt."),
    "invalid-metadata": (
        "{name} {release} has invalid metadata, which {pip} refuses",
        "pip {limit} and later skip a release whose metadata breaks the packaging standards (pip's"
        " line above ends `Please use pip<{limit}`), and then no release of {name} was left. Pin"
        " another release of {name} whose metadata is valid; or build with uv (the default on Python"
        " 3.8 and later unless PYTHON_INSTALLER=pip; PYTHON_INSTALLER=uv asks for it), which accepts"
        " this metadata; or use a Python whose pip is older than {limit} (the log's"
        " `Using pip` line shows which pip a Python runs: 3.13.0 brings pip 24.2, 3.12.1 pip 23.2.1)."),
    "vcs-unreachable": (
        "git could not reach the repository of {req}",
        "The build machine could not connect to {url} (git's line above says why). Check the URL in"
        " requirements.txt and that its host is reachable from the build machine, not only from"
        " your own network or VPN; or publish the package to an index the build can reach"
        " (PIP_EXTRA_INDEX_URL in the app's environment)."),
    "vcs-auth": (
        "git was refused access to the repository of {req}",
        "{url} refused the build's credentials, or needs some the build does not have (git cannot"
        " ask for a password during a build). Give the build read access: for HTTPS, GIT_CREDENTIALS in"
        " the app's environment (lines `https://USER:TOKEN@host`, git's credential store; the build log"
        " hides them); for git+ssh, SSH_PRIVATE_KEY (a deploy key) and SSH_KNOWN_HOSTS; or a private"
        " index with the package (PIP_EXTRA_INDEX_URL in the app's environment)."),
    "vcs-ref-not-found": (
        "The git repository of {req} has no {ref}",
        "Check the ref after `@` in the requirement: it must be a branch, tag or full commit hash"
        " that exists in {url} (pushed, not only in your own clone), e.g."
        " `name @ git+https://host/org/repo.git@v1.2.0`."),
    "vcs-failed": (
        "git could not fetch {req}",
        "git's lines above say why. Check the URL and the ref of the requirement in"
        " requirements.txt, and that git on the build machine can fetch {url}."),
    # The detail's first line already says "pip could not {step}": the title
    # must not say it again.
    "other": (
        "{installer} failed; what it said is quoted below",
        "Check the requirement named above: its name and version on PyPI (or your PIP_INDEX_URL),"
        " and that it supports this Python version. Pin versions that work together, e.g."
        " `Flask>=2,<3`."),
}
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s'\"`]+)@")


# Placeholders of the examples in these messages, shown as they are.
_EXAMPLE_USERINFO = ("git", "USER:TOKEN")


def without_credentials(text: str) -> str:
    """URLs with their `user:token@` part hidden (pip masks only the password, so
    `<token>:x-oauth-basic@` shows the token); the user of an SSH URL (`git@`) is
    no secret: SSH authenticates with a key."""
    return _URL_CREDENTIALS.sub(
        lambda found: found.group(0) if found.group("userinfo") in _EXAMPLE_USERINFO
        or (found.group("scheme").endswith("ssh://") and ":" not in found.group("userinfo"))
        else f"{found.group('scheme')}{REDACTED}@", text)


def pip_failed(step: str, exit_code: int, diagnosis: Diagnosis, python: str, *, installer: str = "pip",
               installer_version: str | None = None, hook: str | None = None) -> BuildpackError:
    """`hook`: the systemDependencies entry that provides what the failed build lacks, if any."""
    title, hint = _PIP_CAUSES[diagnosis.cause]
    values = _pip_values(step, diagnosis, python, installer, installer_version)
    if diagnosis.cause == "build-failed":
        values.update(wheels=_wheel_advice(diagnosis, values["req"], python),
                      native=_native_advice(diagnosis.name, hook))
    code = "pip::install-failed" if diagnosis.cause == "other" else f"pip::{diagnosis.cause}"
    quoted = "\n".join(f"  {without_credentials(line)}" for line in diagnosis.quoted)
    source = f"\nThe repository: {values['url']}" if diagnosis.url else ""
    title = title.format(**values)
    return BuildpackError(
        code,
        "A" + title[1:] if title.startswith("a requirement") else title,
        f"{installer} could not {step} (exit code {exit_code}).{source}\n{quoted}".rstrip(),
        hint.format(**values),
    )


def _pip_values(step: str, diagnosis: Diagnosis, python: str, installer: str,
                installer_version: str | None) -> dict[str, str]:
    limit = diagnosis.pip_limit or "24.1"
    return {
        "req": without_credentials(diagnosis.requirement or "a requirement"),
        "name": diagnosis.name or "the package", "python": python, "step": step, "installer": installer,
        "url": without_credentials(diagnosis.url or "the repository"),
        "ref": f"`{diagnosis.ref}`" if diagnosis.ref else "such ref",
        "release": diagnosis.release or "", "limit": limit,
        "pip": f"pip {installer_version}" if installer_version else f"pip {limit} and later",
    }


def _wheel_advice(diagnosis: Diagnosis, requirement: str, python: str) -> str:
    """Only what is true of every package: whether some release has wheels is not known here."""
    if diagnosis.requirement and diagnosis.name is None:
        return (f"{requirement} is built from its own source: the lines above say what"
                " the build lacks.")
    name = diagnosis.name or "the package"
    files = f" (https://pypi.org/project/{name}/#files)" if diagnosis.name else ""
    return (f"If a release of {name} publishes wheels for Linux and Python {python}{files}, pin it, or"
            f" choose a Python it has wheels for in .python-version. Projects that wrap a C library"
            f" often publish sources only: then the build needs what the lines above say is missing.")


def _native_advice(name: str | None, hook: str | None) -> str:
    if hook is not None:
        return (f"The `{hook}` entry of systemDependencies provides what {name} builds against:"
                f" add `systemDependencies: [{hook}]` to leanengine.yaml.")
    return f"None of the systemDependencies entries is known to provide what {name or 'it'} builds against."


def prefix_not_python(prefix: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "package-runtime::not-a-python",
        "The directory is not an installed Python",
        f"{visible(prefix)}: {reason}.",
        "Pass the prefix of an installed CPython, e.g. /root/.pyenv/versions/3.12.1.",
    )


def prefix_not_cpython(prefix: str, implementation: str) -> BuildpackError:
    return BuildpackError(
        "package-runtime::not-cpython",
        "Only CPython can be packed",
        f"{visible(prefix)} is {implementation}.",
        "Pass the prefix of a CPython install.",
    )


def tool_missing(tool: str, why: str) -> BuildpackError:
    return BuildpackError(
        "package-runtime::tool-missing",
        f"{tool} is not available",
        why,
        f"Install {tool} (Debian: apt-get install binutils) and run again.",
    )


# --- leanengine.yaml features -----------------------------------------------------


def refused_variable(name: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "env::refused-variable",
        f"The app's environment sets {name}, which would break the build and the app",
        f"{name}: {reason}",
        f"Remove {name} from the app's environment variables (the platform's settings page),"
        " then deploy again.",
    )


def requirement_variables_unset(unset: Sequence[str], withheld: Sequence[str]) -> BuildpackError:
    found = [f"${{{name}}}: not set in the app's environment" for name in unset]
    found += [f"${{{name}}}: it configures the build's own tools, so it is never expanded"
              for name in withheld]
    return BuildpackError(
        "env::unset-requirement-variable",
        "The requirement files use variables the build cannot expand",
        "pip and uv would keep these as written, and fail on the literal text:\n" + bullet_list(found),
        "Set the variable in the app's environment (the platform's settings page), or for a"
        " git token use GIT_CREDENTIALS (lines `https://USER:TOKEN@host`) and drop the variable"
        " from the URL.",
    )


def build_root_missing(build_root: str) -> BuildpackError:
    return BuildpackError(
        "leanengine-yaml::build-root-missing",
        "buildRoot does not name a directory of the app",
        f"leanengine.yaml sets buildRoot: {visible(build_root)}, and the upload has no such"
        " directory (or it is a link leading out of the app).",
        "Set buildRoot to the subdirectory that holds the Python app, relative to the upload,"
        " e.g.\n  buildRoot: backend",
    )


def required_file_missing(path: str) -> BuildpackError:
    return BuildpackError(
        "leanengine-yaml::require-missing",
        "A file named by `require` does not exist",
        f"install: {{require: [...]}} names {visible(path)}, which is not a file or directory"
        " inside the app.",
        "Fix the path (relative to the app's root) or remove it from `require`.",
    )


def command_failed(step: str, command: str, exit_code: int) -> BuildpackError:
    return BuildpackError(
        f"{step}::command-failed",
        f"The {step} command failed",
        f"`{command}` exited with code {exit_code}; its output is above.",
        f"Fix the command in leanengine.yaml (`{step}:`) or what it runs. It runs with bash in"
        " the app's root, with the app's python and pip first on PATH.",
    )


def hook_failed(step: str, hook: str, exit_code: int, reason: str = "") -> BuildpackError:
    why = f" ({reason})" if reason else "; its output is above"
    return BuildpackError(
        f"{step}::command-failed",
        f"{hook} failed",
        f"`{hook}` exited with code {exit_code}{why}.",
        f"Fix {hook} (Heroku's hook), or move what it does to leanengine.yaml (`{step}:`). It runs"
        " in the app's root, with bash when it is not executable, and the environment of the"
        f" {step} commands.",
    )


def collectstatic_failed(doing: str, exit_code: int, lines: list[str]) -> BuildpackError:
    quoted = [line for line in lines if line.strip()][-8:]
    return BuildpackError(
        "build::collectstatic-failed",
        "Django's collectstatic failed",
        f"`python manage.py collectstatic --noinput` failed while {doing} (exit code {exit_code})."
        + told("Django", quoted),
        "Fix what Django names above (a missing file, a setting), run collectstatic on your machine"
        " to check, or set DISABLE_COLLECTSTATIC=1 in the app's environment to skip it.",
    )


def nltk_unknown_corpora(names: Sequence[str], reason: str) -> BuildpackError:
    return BuildpackError(
        "nltk::unknown-corpus",
        "nltk.txt names corpora that cannot be downloaded",
        f"{', '.join(visible(name, 40) for name in names[:10])}: {reason}.",
        "Use the package ids of NLTK's index (e.g. `punkt`, `stopwords`, `wordnet`), one per line;"
        " NLTK_DATA_URL in the app's environment points the build at another index.",
    )


def nltk_download_failed(url: str, lines: list[str]) -> BuildpackError:
    return BuildpackError(
        "nltk::download-failed",
        "The NLTK corpora of nltk.txt could not be downloaded",
        f"NLTK's downloader failed with {without_credentials(url)}." + told("It", lines),
        "Check that the build can reach the index (NLTK_DATA_URL, the index.xml of an NLTK data"
        " server), then build again.",
    )


def functions_mode_without_sdk(reason: str) -> BuildpackError:
    return BuildpackError(
        "leanengine-yaml::functions-mode-without-sdk",
        "functionsMode: strict needs the LeanCloud SDK",
        reason,
        "Add `leancloud` to requirements.txt and serve `leancloud.Engine(app)` from wsgi.py's"
        " `application`, or remove `functionsMode: strict` from leanengine.yaml.",
    )


def bad_installer(value: str) -> BuildpackError:
    return BuildpackError(
        "config::bad-installer",
        "PYTHON_INSTALLER is not an installer the buildpack knows",
        f"PYTHON_INSTALLER is {visible(value)}.",
        "Set PYTHON_INSTALLER to `uv` or `pip`, or remove it (uv on Python 3.8 and later, else pip).",
    )


# --- system dependencies ------------------------------------------------------


def system_dependency_unknown(name: str, supported: list[str], suggestion: str | None
                              ) -> BuildpackError:
    guess = f' Did you mean "{suggestion}"?' if suggestion else ""
    return BuildpackError(
        "system-dependencies::unknown",
        "leanengine.yaml lists a system dependency the platform does not provide",
        f"systemDependencies has {visible(name)}.{guess}\nSupported names:\n"
        + bullet_list(supported),
        "Use one of the supported names, or install what you need from PyPI in requirements.txt.",
    )


def system_dependency_discontinued(name: str, advice: str) -> BuildpackError:
    return BuildpackError(
        "system-dependencies::discontinued",
        f"The system dependency {visible(name)} is no longer provided",
        advice,
        f"Remove {visible(name)} from systemDependencies in leanengine.yaml.",
    )


def system_dependency_needs_python(name: str, minimum: str, found: str) -> BuildpackError:
    return BuildpackError(
        "system-dependencies::needs-newer-python",
        f"The system dependency {visible(name)} needs Python {minimum} or newer",
        f"The app is built with Python {found}; {name} is only available as wheels for"
        f" Python {minimum} and newer.",
        f"Set .python-version to {minimum} or newer, or remove {name} from systemDependencies.",
    )


def system_packages_unreachable(source: str, lines: list[str]) -> BuildpackError:
    return BuildpackError(
        "system-dependencies::source-unreachable",
        "The Debian package source cannot be reached",
        f"Fetching from {source} failed:\n" + "\n".join(f"  {line}" for line in lines[-6:]),
        "Check the network or SYSTEM_PACKAGES_MIRROR, then build again. Nothing was added to"
        " the slug or the cache.",
    )


def system_packages_unresolvable(names: list[str], lines: list[str]) -> BuildpackError:
    return BuildpackError(
        "system-dependencies::unresolvable",
        "The Debian packages of the system dependencies cannot be installed",
        f"apt could not resolve {', '.join(names)}:\n" + "\n".join(f"  {line}" for line in lines[-8:]),
        "The package source may lack these packages (check SYSTEM_PACKAGES_MIRROR), or the"
        " build image changed. Build again; if it persists, report it with this log.",
    )


def system_package_broken(package: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "system-dependencies::broken-package",
        f"The Debian package {visible(package)} could not be unpacked",
        reason,
        "The download may be damaged: build again with BUILD_NO_CACHE=1 to fetch it afresh.",
    )


# --- bin/report and bin/release -------------------------------------------------


def report_missing(build_dir: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "report::missing",
        "There is no build report in this directory",
        f"{build_dir}/.lean/build-report.json cannot be read: {reason}",
        "Run bin/compile on the directory first; bin/report describes the last build there.",
    )


def release_build_failed(failure_code: str) -> BuildpackError:
    failure = "an internal error" if failure_code == "internal-error" else f"[{printable(failure_code, 80)}]"
    return BuildpackError(
        "release::build-failed",
        "The last build of this app failed: there is nothing to release",
        f".lean/build-report.json says the last bin/compile of this directory failed with"
        f" {failure}; what it left behind is not a version to run.",
        "Fix what that build reported (bin/report BUILD_DIR shows it again) and run bin/compile;"
        " bin/release works once a build has succeeded.",
    )


# --- smoke check ------------------------------------------------------------------

_SMOKE_HINT = ("The platform would start this version the same way and fail its health check."
               " Fix the app (its output is above), or set SMOKE_CHECK=0 to skip this check.")


def _app_output(lines: list[str]) -> str:
    if not lines:
        return "The app printed nothing."
    return "The app's last lines:\n" + "\n".join(f"  | {line}" for line in lines)


def smoke_check_exited(exit_code: int, lines: list[str]) -> BuildpackError:
    return BuildpackError(
        "smoke-check::exited",
        "The app exited during the smoke check",
        f"The web command exited with code {exit_code} before answering HTTP.\n{_app_output(lines)}",
        _SMOKE_HINT,
    )


def smoke_check_no_answer(timeout: float, seen: dict[str, str], lines: list[str]) -> BuildpackError:
    tried = ", ".join(f"{path}: {answer}" for path, answer in seen.items()) or "nothing"
    return BuildpackError(
        "smoke-check::no-answer",
        f"The app did not answer within startupTimeout ({timeout:g} s)",
        f"Probed GET / and /__engine/1/ping on 127.0.0.1:$LEANCLOUD_APP_PORT; last: {tried}.\n"
        "The app must listen on 0.0.0.0:$LEANCLOUD_APP_PORT and answer quickly.\n"
        + _app_output(lines),
        _SMOKE_HINT + " A slow start can get more time with startupTimeout in leanengine.yaml.",
    )


def smoke_check_bad_status(seen: dict[str, str], lines: list[str]) -> BuildpackError:
    answers = ", ".join(f"{path} answered {status}" for path, status in seen.items())
    return BuildpackError(
        "smoke-check::bad-status",
        "The app answers the health check with an error",
        f"{answers}; the platform needs a 2xx on one of them.\n{_app_output(lines)}",
        _SMOKE_HINT + " An app with no page at / can serve the LeanCloud SDK's /__engine/1/ping.",
    )


# --- the machine ------------------------------------------------------------------


def disk_full(where: str) -> BuildpackError:
    return BuildpackError(
        "disk::full",
        "The disk filled up during the build",
        f"No space was left on the device holding {where}.",
        "Free space there (or give the build more), then build again. The build cache was"
        " left as it was: nothing half-written is kept.",
    )


def mirror_bad_timeout(value: str) -> BuildpackError:
    return BuildpackError(
        "mirror::bad-timeout",
        "PYTHON_RUNTIME_MIRROR_TIMEOUT is not a number of seconds",
        f"PYTHON_RUNTIME_MIRROR_TIMEOUT is {visible(value)}.",
        "Set it to the seconds a mirror may stall before it counts as down (more than 0, at"
        " most 3600; default 60), or unset it.",
    )


def include_leaves_app(name: str, target: str) -> BuildpackError:
    return BuildpackError(
        "app::unsafe-file",
        f"{name} includes a file outside the app",
        f"{name} has `-r`/`-c` {visible(target)}: pip would read (and quote in its errors) a file"
        " outside the app's directory, or one named by a URL or variable.",
        f"Copy the included requirements into the app and include them by a relative path, or"
        f" list them in {name} itself.",
    )


# --- the container image (bin/image) ----------------------------------------------

_IMAGE_USAGE = ("bin/image BUILD_DIR IMAGE_REF [--base BASE_REF] [--oci-layout DIR] [--tarball FILE]"
                " [--kubernetes FILE] [--plain-http] [--timezone TZ] [--source URL] [--revision REV]"
                " [--version VERSION]")


def image_usage(problem: str) -> BuildpackError:
    return BuildpackError("cli::usage", "Wrong arguments for bin/image", f"{problem}\nUsage: {_IMAGE_USAGE}")


def image_bad_reference(value: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "image::bad-reference",
        "Not an image reference",
        f"{visible(value)}: {reason}.",
        "Write it as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], in lower case, e.g."
        " ghcr.io/acme/web:1.4 or localhost:5000/web.",
    )


def image_not_compiled(build_dir: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "image::not-compiled",
        "The directory is not a compiled slug",
        f"{visible(build_dir)}: {reason}.",
        "bin/image packages what bin/compile built; it never builds. Run"
        " `bin/compile BUILD_DIR CACHE_DIR` first, and pass the same BUILD_DIR.",
    )


def image_bad_timezone(value: str) -> BuildpackError:
    return BuildpackError(
        "image::bad-timezone",
        "Not a time zone name",
        f"--timezone is {visible(value)}.",
        "Use a tz database name such as UTC or Asia/Shanghai (the CN region of LeanCloud ran at"
        " UTC+8).",
    )


def registry_unreachable(registry: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "registry::unreachable",
        f"The registry {registry} cannot be reached",
        f"{reason}.",
        "Check the registry's name and that it is up. Registries other than localhost are spoken"
        " to over HTTPS with the system's CA bundle; --plain-http allows plain HTTP for a registry"
        " you trust on your own network.",
    )


def registry_unauthorized(registry: str, what: str, had_credentials: bool) -> BuildpackError:
    found = ("The credentials found were refused" if had_credentials
             else "No credentials were found for it")
    return BuildpackError(
        "registry::unauthorized",
        f"The registry {registry} asks for credentials (401)",
        f"{found} while {what}.",
        "Log in with `podman login` or `docker login` (they write $DOCKER_CONFIG/config.json, by"
        " default ~/.docker/config.json), or set IMAGE_REGISTRY_USERNAME and"
        " IMAGE_REGISTRY_PASSWORD (a token for GHCR and Docker Hub).",
    )


def registry_forbidden(registry: str, what: str) -> BuildpackError:
    return BuildpackError(
        "registry::forbidden",
        f"The registry {registry} refused access (403)",
        f"The credentials are valid but may not be used for {what}.",
        "Give the account push rights on the repository (or create it first, as some registries"
        " require), or push to a repository it owns.",
    )


def registry_not_found(registry: str, what: str) -> BuildpackError:
    return BuildpackError(
        "registry::not-found",
        f"The registry {registry} has no {what}",
        f"It answered 404 for {what}.",
        "Check the name and tag (e.g. `skopeo inspect docker://REFERENCE`); for --base, push the"
        " base image first or name one the registry has.",
    )


def registry_http_error(registry: str, what: str, status: int, reason: str) -> BuildpackError:
    return BuildpackError(
        "registry::http-error",
        f"The registry {registry} failed while {what}",
        f"It answered HTTP {status}{': ' + reason if reason else ''}" +
        (" (after retries)." if status == 429 or status >= 500 else "."),
        "Try again later; a re-run uploads only what the registry does not have yet.",
    )


def registry_bad_manifest(reference: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "registry::bad-manifest",
        "The base image's manifest cannot be used",
        f"{visible(reference)}: {reason}.",
        "Use a Linux image in the OCI or Docker v2 format, such as debian:bookworm-slim.",
    )


def registry_bad_credentials_file(path: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "registry::bad-credentials-file",
        "The registry credentials file cannot be read",
        f"{visible(path)}: {reason}.",
        "Fix or remove the file (`podman login` rewrites it), or set DOCKER_CONFIG to another"
        " directory.",
    )


def base_missing_libraries(base: str, missing: dict[str, str]) -> BuildpackError:
    packages = sorted({package for package in missing.values() if package})
    return BuildpackError(
        "base::missing-library",
        "The base image lacks libraries the app needs",
        f"{visible(base)} has no:\n" + bullet_list(
            f"{soname}" + (f" (Debian package {package})" if package else "")
            for soname, package in sorted(missing.items())),
        (f"Use a base with these Debian packages installed: {' '.join(packages)}; e.g. a Dockerfile"
         " `FROM debian:bookworm-slim` with `RUN apt-get update && apt-get install -y"
         f" --no-install-recommends {' '.join(packages)}`." if packages else
         "Use a Debian bookworm base that has them."),
    )


def base_wrong_architecture(base: str, found: str, wanted: str) -> BuildpackError:
    return BuildpackError(
        "base::wrong-architecture",
        "The base image is for another architecture",
        f"{visible(base)} is linux/{found}; the slug was built for linux/{wanted}.",
        f"Use the base's linux/{wanted} variant (a multi-platform tag such as"
        " debian:bookworm-slim has it), or build the slug on a linux/{found} machine.",
    )


def base_old_glibc(base: str, found: str, wanted: str) -> BuildpackError:
    return BuildpackError(
        "base::old-glibc",
        "The base image's C library is too old for the slug",
        f"{visible(base)} has glibc {found}; the slug's programs need glibc {wanted} or newer.",
        "Use a base of the same distribution as the build image (Debian bookworm,"
        " e.g. debian:bookworm-slim) or a newer one.",
    )


def base_unsafe_layer(base: str, entry: str, reason: str) -> BuildpackError:
    return BuildpackError(
        "base::unsafe-layer",
        "The base image has an unsafe layer",
        f"{visible(base)}: the entry {visible(entry)} was refused: {reason}.",
        "Use a base image from a source you trust; a layer must not name paths outside the"
        " image's root.",
    )
