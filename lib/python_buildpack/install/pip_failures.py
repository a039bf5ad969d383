"""Why pip (or uv) failed, read from its output: which requirement, the likely
cause, and the lines that show it.

Causes, checked in this order because later patterns also appear as symptoms
of earlier ones (a failed `git clone` reads "did not run successfully" like a
failed build, and "Connection refused" like an unreachable index; an
unreachable index ends in "from versions: none" too; a release pip refuses for
its metadata ends in "Could not find a version"; uv reports a missing package
as "No solution found"): git, network, build failure, invalid metadata, no such
package, no matching version, conflict.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.utils import canonicalize_name

_NETWORK = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution"
    r"|Name or service not known|ConnectTimeoutError|ProxyError|Read timed out|SSLError"
    r"|Could not fetch URL|Failed to fetch|error sending request|dns error|Connection refused")
# pip: "THESE PACKAGES DO NOT MATCH THE HASHES ..." then `name==version from URL:`;
# uv: "Hash mismatch for `name==version`".
_HASH = re.compile(r"DO NOT MATCH THE HASHES|Hash mismatch for")
_HASH_REQUIREMENT = re.compile(
    r"Hash mismatch for `(?P<uv>[^`]+)`|^\s*(?P<pip>[\w.-]+==[\w.+!-]+) from ", re.M)
_CONFLICT = re.compile(r"ResolutionImpossible|conflicting dependencies|No solution found when resolving")
_BUILD = re.compile(
    r"did not run successfully|Failed building wheel for|Failed to build|subprocess-exited-with-error"
    r"|metadata-generation-failed|Failed to build installable wheels|The build backend returned an error")
_NOT_FOUND = re.compile(
    r"Could not find a version that satisfies the requirement (?P<requirement>\S+)"
    r" \(from versions: (?P<versions>[^)]*)\)")
_UV_NOT_FOUND = re.compile(r"Because (?P<requirement>[\w.-]+) was not found in the package registry")
_UV_NO_VERSION = re.compile(r"Because (?:there is no version of|only) (?P<requirement>[\w.-]+\S*)")
_BUILT_PACKAGE = re.compile(
    r"(?:Failed building wheel for|Building wheel for|Failed to build) `?(?P<name>[A-Za-z0-9][\w.-]*)")
_STARTED = re.compile(r"^\s*(?:Collecting|Processing) (?P<name>\S+)")
_COMPILER_ERROR = re.compile(r"(fatal error:|error:|Error:|No such file|not found)", re.IGNORECASE)
_PIP_NOISE = ("error: subprocess-exited-with-error", "error: metadata-generation-failed",
              "error: failed-wheel-build-for-install")


# git's own lines, by cause; each names the repository (url) or the ref when it can.
_GIT_AUTH = tuple(re.compile(pattern) for pattern in (
    r"fatal: could not read (?:Username|Password) for '(?P<url>[^']+)'",
    r"fatal: Authentication failed for '(?P<url>[^']+)'",
    r"fatal: unable to access '(?P<url>[^']+)': The requested URL returned error: 40[13]",
    r"Permission denied \(publickey[^)]*\)", r"Host key verification failed"))
_GIT_UNREACHABLE = (re.compile(r"fatal: unable to access '(?P<url>[^']+)': .+"),
                    re.compile(r"fatal: repository '(?P<url>[^']+)' not found"),
                    re.compile(r"ssh: Could not resolve hostname .+|ssh: connect to host .+"))
_GIT_REF = tuple(re.compile(pattern) for pattern in (
    r"error: pathspec '(?P<ref>[^']+)' did not match any file\(s\) known to git",
    r"failed to fetch branch or tag `(?P<ref>[^`]+)`",
    r"failed to find branch, tag, or commit `(?P<ref>[^`]+)`",
    r"fatal: couldn't find remote ref (?P<ref>\S+)",
    r"not our ref (?P<ref>[0-9a-f]+)"))
_GIT_OTHER = (re.compile(r"Git operation failed"), re.compile(r"Cannot find command 'git'"),
              re.compile(r"× git (?:clone|fetch|checkout|submodule)\b.* did not run successfully"))
_GIT_LINE = re.compile(r"^\s*(?:fatal:|error: pathspec|ssh:|Permission denied|Host key)"
                       r"|Cannot find command 'git'|failed to (?:fetch|find) branch")
# Where pip (Cloning URL (to revision REF)) and uv (Updating URL (REF); `name @ git+URL`)
# say which repository they fetch; git's own line may name none (ssh, a ref).
_FETCHING = (re.compile(r"^\s*Cloning (?P<url>\S+)(?: \(to revision (?P<ref>[^)]+)\))?"),
             re.compile(r"^\s*Updating (?P<url>\S+) \((?P<ref>[^)]+)\)"),
             re.compile(r"`[^`@]+ @ git\+(?P<url>[^`@\s]+(?:@[^`@\s/]+)*)`"))
_VCS_NAME = re.compile(r"^\s*Collecting (?P<name>[A-Za-z0-9][\w.-]*)|`(?P<uv>[A-Za-z0-9][\w.-]*) @ git\+")
_INVALID_METADATA = re.compile(
    r"Ignoring version (?P<version>\S+) of (?P<name>\S+) since it has invalid metadata")
_PROJECT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_PIP_LIMIT = re.compile(r"Please use pip<(?P<limit>[\d.]+)")


@dataclass(frozen=True)
class Diagnosis:
    # network | hash-mismatch | conflict | build-failed | no-such-package | no-matching-version
    # | invalid-metadata | vcs-unreachable | vcs-auth | vcs-ref-not-found | vcs-failed | other
    cause: str
    requirement: str | None
    quoted: tuple[str, ...]  # pip's own lines that show it
    url: str | None = None  # vcs-*: the repository (as printed: may hold credentials)
    ref: str | None = None  # vcs-*: the branch, tag or commit asked for
    release: str | None = None  # invalid-metadata: the version pip refused
    pip_limit: str | None = None  # invalid-metadata: the pip release that began refusing it

    @property
    def name(self) -> str | None:
        return project_name(self.requirement)


def project_name(requirement: str | None) -> str | None:
    """The project a requirement names, as written; None for a path, a URL or nothing."""
    name = re.split(r"[=<>!~\[;@ ]", requirement or "", maxsplit=1)[0]
    return name if _PROJECT_NAME.fullmatch(name) else None


def diagnose(lines: list[str]) -> Diagnosis:
    text = "\n".join(lines)
    # A hash mismatch comes before the network: pip's message shows the URLs it fetched.
    first = _vcs_diagnosis(lines) or (_hash_diagnosis(text, lines) if _HASH.search(text) else None)
    if first is not None:
        return first
    if _NETWORK.search(text):
        return Diagnosis("network", None, _matching(lines, _NETWORK, limit=3))
    if _BUILD.search(text):
        return Diagnosis("build-failed", _built_package(lines), _build_lines(lines))
    on_index = _invalid_metadata(lines) or _index_diagnosis(text)
    if on_index is not None:
        return on_index
    if _CONFLICT.search(text):
        return Diagnosis("conflict", None, _conflict_lines(lines))
    errors = [line.strip() for line in lines if line.lstrip().startswith(("ERROR:", "error:", "×"))]
    fallback = errors[:6] or [line.strip() for line in lines[-5:] if line.strip()]
    return Diagnosis("other", None, tuple(fallback))


def _hash_diagnosis(text: str, lines: list[str]) -> Diagnosis:
    named = _HASH_REQUIREMENT.search(text)
    quoted = [line.strip() for line in lines if any(word in line for word in ("Expected", "Got", "mismatch"))]
    return Diagnosis("hash-mismatch", named and (named.group("uv") or named.group("pip")), tuple(quoted[:4]))


def _vcs_diagnosis(lines: list[str]) -> Diagnosis | None:
    """git failed to fetch a `git+` requirement: the first cause whose git line is there."""
    for cause, patterns in (("vcs-auth", _GIT_AUTH), ("vcs-ref-not-found", _GIT_REF),
                            ("vcs-unreachable", _GIT_UNREACHABLE), ("vcs-failed", _GIT_OTHER)):
        found = _first_match(lines, patterns)
        if found is not None:
            return _vcs_details(cause, found, lines)
    return None


def _first_match(lines: list[str], patterns: tuple[re.Pattern[str], ...]) -> re.Match[str] | None:
    for line in lines:
        for pattern in patterns:
            found = pattern.search(line)
            if found:
                return found
    return None


def _vcs_details(cause: str, found: re.Match[str], lines: list[str]) -> Diagnosis:
    groups = found.groupdict()
    fetching = _first_match(lines, _FETCHING)
    fetched = fetching.groupdict() if fetching else {}
    ref = groups.get("ref") or fetched.get("ref")
    named = _first_match(lines, (_VCS_NAME,))
    git_lines = [line.strip() for line in lines if _GIT_LINE.search(line)]
    quoted = _unique(git_lines or [found.string.strip()])
    return Diagnosis(cause, named and (named.group("name") or named.group("uv")), tuple(quoted[:3]),
                     url=fetched.get("url") or groups.get("url"),
                     ref=None if ref == "HEAD" else ref)


def _invalid_metadata(lines: list[str]) -> Diagnosis | None:
    """pip >= 24.1 skips releases whose metadata is not valid, then finds no release."""
    text = "\n".join(lines)
    ignored = _INVALID_METADATA.search(text)
    wanted = _NOT_FOUND.search(text)
    if not ignored or not wanted or not _same_project(ignored.group("name"), wanted.group("requirement")):
        return None
    limit = _PIP_LIMIT.search(text)
    return Diagnosis("invalid-metadata", ignored.group("name"), _invalid_metadata_reason(lines),
                     release=ignored.group("version"), pip_limit=limit and limit.group("limit"))


def _same_project(name: str, requirement: str) -> bool:
    wanted = project_name(requirement)
    return wanted is not None and canonicalize_name(name) == canonicalize_name(wanted)


def _invalid_metadata_reason(lines: list[str]) -> tuple[str, ...]:
    """pip's reason, from after "has invalid metadata:" up to its "Please use pip<" line,
    without the download URL (long, and says nothing the name and version do not)."""
    start = next(i for i, line in enumerate(lines) if _INVALID_METADATA.search(line))
    reason: list[str] = []
    for line in lines[start + 1:start + 8]:
        if _PIP_LIMIT.search(line) or line.startswith("ERROR:"):
            break
        reason.append(re.sub(r"^Requested .* has invalid metadata: ", "", line.rstrip()))
    return tuple(_shorten(line) for line in [lines[start].strip(), *reason])


def _index_diagnosis(text: str) -> Diagnosis | None:
    """The requirement is missing from the index, or none of its releases match."""
    found = _NOT_FOUND.search(text)
    if found:
        versions = [v.strip() for v in found.group("versions").split(",")]
        if versions == ["none"]:
            return Diagnosis("no-such-package", found.group("requirement"), (_shorten(found.group(0)),))
        newest = ", ".join(versions[-8:])
        shown = f"{found.group('requirement')}: the index has {len(versions)} releases, the newest: {newest}"
        return Diagnosis("no-matching-version", found.group("requirement"), (shown,))
    for pattern, cause in ((_UV_NOT_FOUND, "no-such-package"), (_UV_NO_VERSION, "no-matching-version")):
        uv_found = pattern.search(text)
        if uv_found:
            return Diagnosis(cause, uv_found.group("requirement"), (_shorten(uv_found.group(0)),))
    return None


def _matching(lines: list[str], pattern: re.Pattern[str], limit: int) -> tuple[str, ...]:
    return tuple(_shorten(line.strip()) for line in lines if pattern.search(line))[:limit]


def _conflict_lines(lines: list[str]) -> tuple[str, ...]:
    wanted = [line.strip() for line in lines
              if line.startswith("ERROR: Cannot install")
              or (line.startswith("    ") and ("requested" in line or "depends on" in line))
              or "Because" in line or "╰─▶" in line]
    return tuple(_shorten(line) for line in wanted[:8])


def _built_package(lines: list[str]) -> str | None:
    for line in lines:
        named = _BUILT_PACKAGE.search(line)
        if named and ("Failed" in line or "failed" in line):
            return named.group("name")
    # Failing before a wheel is named (egg_info, build requirements): the last
    # distribution pip started on is the one that broke.
    started = [match.group("name") for match in map(_STARTED.match, lines) if match]
    return started[-1] if started else None


def _build_lines(lines: list[str]) -> tuple[str, ...]:
    """The build's own first error lines (a missing header says it all), then pip's verdict."""
    build_errors = [line.strip() for line in lines
                    if line.startswith("  ") and _COMPILER_ERROR.search(line)
                    and line.strip() not in _PIP_NOISE
                    and not line.rstrip().endswith("Traceback (most recent call last):")][:3]
    verdict = _unique(line.strip() for line in lines if line.strip().startswith("×") or "Failed" in line)
    return tuple(_shorten(line) for line in _unique(build_errors + verdict[:2]))


def _unique(lines: Iterable[str]) -> list[str]:
    """pip prints its verdict twice (in the subprocess's box, then on its own)."""
    return list(dict.fromkeys(lines))


def _shorten(line: str, limit: int = 300) -> str:
    return line if len(line) <= limit else line[:limit] + " …"
