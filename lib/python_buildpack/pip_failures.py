"""Why pip (or uv) failed, read from its output: which requirement, the likely
cause, and the lines that show it.

Causes, checked in this order because later patterns also appear as symptoms
of earlier ones (an unreachable index ends in "from versions: none" too; uv
reports a missing package as "No solution found"): network, build failure, no
such package, no matching version, conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NETWORK = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution"
    r"|Name or service not known|ConnectTimeoutError|ProxyError|Read timed out|SSLError"
    r"|Could not fetch URL|Failed to fetch|error sending request|dns error|Connection refused")
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


@dataclass(frozen=True)
class Diagnosis:
    cause: str  # network | conflict | build-failed | no-such-package | no-matching-version | other
    requirement: str | None
    quoted: tuple[str, ...]  # pip's own lines that show it


def diagnose(lines: list[str]) -> Diagnosis:
    text = "\n".join(lines)
    if _NETWORK.search(text):
        return Diagnosis("network", None, _matching(lines, _NETWORK, limit=3))
    if _BUILD.search(text):
        return Diagnosis("build-failed", _built_package(lines), _build_lines(lines))
    on_index = _index_diagnosis(text)
    if on_index is not None:
        return on_index
    if _CONFLICT.search(text):
        return Diagnosis("conflict", None, _conflict_lines(lines))
    errors = [line.strip() for line in lines if line.lstrip().startswith(("ERROR:", "error:", "×"))]
    fallback = errors[:6] or [line.strip() for line in lines[-5:] if line.strip()]
    return Diagnosis("other", None, tuple(fallback))


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
                    and line.strip() not in _PIP_NOISE][:3]
    verdict = [line.strip() for line in lines if line.strip().startswith("×") or "Failed" in line][:2]
    return tuple(_shorten(line) for line in build_errors + verdict)


def _shorten(line: str, limit: int = 300) -> str:
    return line if len(line) <= limit else line[:limit] + " …"
