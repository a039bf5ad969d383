"""Which Python the app gets: every source of a version, in order, and the
rules that keep a working app working.

The order (README, "Python version"):
1. `.python-version`, else `runtime.txt`: the app's pin. It must satisfy
   requires-python, the lock, and every package's Python (incompatible_packages):
   an error before anything installs otherwise.
2. A range the project gives: requires-python of pyproject.toml, else the
   Python the lock was made for.
3. The line of the last successful build on this cache (not with BUILD_NO_CACHE):
   a new line in the mirror never moves an app that did not ask for it.
4. The platform's PYTHON_DEFAULT_VERSION.
5. The newest stable version in the mirror.
Rules 2-5 choose only among versions on which the app's packages install
(the LeanCloud SDK: 3.11), and rule 3 only within rule 2's range.
Pure: the inputs are data, the day included.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from python_buildpack.analysis import incompatible_packages, python_version
from python_buildpack.analysis.dependency_manifest import LOCK_COMMANDS, DependencyManifest
from python_buildpack.analysis.incompatible_packages import Incompatibility
from python_buildpack.analysis.project_files import PYPROJECT
from python_buildpack.analysis.python_version import PinnedVersion, VersionChoice, VersionRequest
from python_buildpack.reporting import errors

MOVE_HINT = f"pin a version in {python_version.FILE_NAME} to move"


@dataclass(frozen=True)
class VersionInputs:
    version_file: bytes | None
    runtime_txt: bytes | None
    default: str | None  # PYTHON_DEFAULT_VERSION
    previous_line: str | None  # the line of the last successful build on this cache
    available: list[str]  # the mirror's versions (python_version.listed_as)
    manifest: DependencyManifest
    held_back: tuple[Incompatibility, ...] = ()  # rows about the app's packages
    today: datetime.date | None = None


def choose(inputs: VersionInputs) -> VersionChoice:
    pinned = python_version.pinned_version(inputs.version_file, inputs.runtime_txt)
    choice = _pinned(pinned, inputs) if pinned is not None else _unpinned(inputs)
    manifest = inputs.manifest
    if manifest.lock and manifest.lock_python and not _satisfies(choice.version, manifest.lock_python):
        raise errors.python_not_in_lock(
            choice.version, manifest.lock, manifest.lock_python, LOCK_COMMANDS[manifest.manager]
        )
    return choice


def _pinned(pinned: PinnedVersion, inputs: VersionInputs) -> VersionChoice:
    version = python_version.resolve(pinned.request, inputs.available)
    project_python = inputs.manifest.project_python
    if project_python and not _satisfies(version, project_python):
        raise errors.python_outside_requires(version, pinned.origin, project_python, PYPROJECT)
    blocking = incompatible_packages.blocking(inputs.held_back, version)
    if blocking is not None:
        fix = _newest(inputs, lambda v: incompatible_packages.allowed_by_all(inputs.held_back, v))
        raise errors.python_version_incompatible_package(version, pinned.origin, blocking,
                                                         _line(fix) if fix else None)
    return _chosen(version, pinned.reason, pinned.request, inputs, notices=pinned.notices,
                   warnings=pinned.warnings)


def _unpinned(inputs: VersionInputs) -> VersionChoice:
    specifier, origin = _declared_range(inputs.manifest)
    notices: list[str] = []
    kept = _previous_line(inputs, specifier, notices)
    if kept is not None:
        reason = f"as before: kept on {_line(kept)} (the line of the previous build); {MOVE_HINT}"
        return _chosen(kept, reason, None, inputs, notices=notices)
    if specifier is not None:
        return _in_range(specifier, origin, inputs, notices)
    if inputs.default is not None:
        request = python_version.parse_request(inputs.default, "PYTHON_DEFAULT_VERSION")
        version = python_version.resolve(request, inputs.available)
        blocking = incompatible_packages.blocking(inputs.held_back, version)
        if blocking is None:
            return _chosen(version, f"from PYTHON_DEFAULT_VERSION ({inputs.default}), the platform's"
                           " default for this app", request, inputs, notices=notices)
        notices.append(f"Not the platform's default Python {version} (PYTHON_DEFAULT_VERSION):"
                       f" {blocking.releases} does not install on it.")
    return _newest_allowed(inputs, notices)


def _declared_range(manifest: DependencyManifest) -> tuple[str | None, str]:
    """The project's Python range and where it is written: requires-python, else the lock's."""
    if manifest.project_python:
        return manifest.project_python, f"requires-python in {PYPROJECT}"
    if manifest.lock_python and manifest.lock:
        return manifest.lock_python, f"the Python {manifest.lock} was made for"
    return None, ""


def _previous_line(inputs: VersionInputs, specifier: str | None, notices: list[str]) -> str | None:
    """The newest patch of the previous build's line, when it still fits."""
    line = inputs.previous_line
    if line is None:
        return None
    major, minor = (int(part) for part in line.split("."))
    request = VersionRequest(line, "the previous build", major, minor)
    candidates = [v for v in _stable(inputs.available) if request.matches(v)]
    if not candidates:
        notices.append(f"The previous build's Python {line} is no longer in the mirror: choosing anew.")
        return None
    version = str(candidates[-1])
    if specifier is not None and not _satisfies(version, specifier):
        return None  # the project moved its range: the range decides
    blocking = incompatible_packages.blocking(inputs.held_back, version)
    if blocking is not None:
        notices.append(f"Leaving the previous build's Python {line}: {blocking.releases}"
                       " does not install on it.")
        return None
    return version


def _in_range(specifier: str, origin: str, inputs: VersionInputs, notices: list[str]) -> VersionChoice:
    in_range = _newest(inputs, lambda v: SpecifierSet(specifier).contains(Version(v)))
    if in_range is None:
        raise errors.python_none_satisfies(specifier, origin, [str(v) for v in _stable(inputs.available)])
    allowed = _newest(inputs, lambda v: SpecifierSet(specifier).contains(Version(v))
                      and incompatible_packages.allowed_by_all(inputs.held_back, v))
    if allowed is None:
        return _newest_allowed(inputs, notices)  # raises: nothing in the range installs the packages
    held = "" if allowed == in_range else f" on which {_names(inputs, in_range)} installs"
    reason = f"from {origin} ({specifier}): the newest version in the mirror that satisfies it{held}"
    return _chosen(allowed, reason, None, inputs, notices=notices)


def _newest_allowed(inputs: VersionInputs, notices: list[str]) -> VersionChoice:
    newest = _newest(inputs, lambda v: True)
    allowed = _newest(inputs, lambda v: incompatible_packages.allowed_by_all(inputs.held_back, v))
    if newest is None:
        python_version.resolve(None, inputs.available)  # raises: the mirror has no stable version
        raise AssertionError("unreachable")
    if allowed is None:
        row = next(row for row in inputs.held_back if not row.allows(newest))
        raise errors.python_version_incompatible_package(newest, "The default", row, None)
    if allowed == newest:
        return _chosen(newest, "the newest stable version in the mirror (no .python-version)", None,
                       inputs, notices=notices)
    rows = [row for row in inputs.held_back if not row.allows(newest)]
    limits = ", ".join(f"{row.releases}: Python {row.python}" for row in rows)
    notices += [f"{row.releases} installs on Python {row.python} only: {row.reason} (source: {row.source})."
                for row in rows]
    notices.append(f"To build on another line {_names(inputs, newest)} installs on, pin it in"
                   f" {python_version.FILE_NAME}.")
    reason = f"the newest line in the mirror on which {_names(inputs, newest)} installs ({limits})"
    return _chosen(allowed, reason, None, inputs, notices=notices)


def _names(inputs: VersionInputs, version: str) -> str:
    return ", ".join(row.releases for row in inputs.held_back if not row.allows(version))


def _chosen(version: str, reason: str, request: VersionRequest | None, inputs: VersionInputs, *,
            notices: list[str], warnings: list[tuple[str, str]] | None = None) -> VersionChoice:
    found_warnings, near_end = python_version.version_warnings(
        request, version, inputs.available, inputs.today)
    return VersionChoice(version, reason, [*notices, *near_end], [*(warnings or []), *found_warnings],
                         free_threaded=request is not None and request.free_threaded)


def _stable(available: list[str]) -> list[Version]:
    return [v for v in python_version.parse_available(python_version.of_build(available, False))
            if not v.is_prerelease]


def _newest(inputs: VersionInputs, wanted: Callable[[str], bool]) -> str | None:
    matching = [str(v) for v in _stable(inputs.available) if wanted(str(v))]
    return matching[-1] if matching else None


def _line(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _satisfies(version: str, specifier: str) -> bool:
    return SpecifierSet(specifier).contains(Version(version), prereleases=True)
