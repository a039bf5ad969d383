"""Which CPython the app names: `.python-version` and `runtime.txt` parsed and resolved
against the mirror (the order of every source of a version: version_policy).

Parsing and resolution are pure (no I/O) so they can be tested with tables.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from python_buildpack.analysis import python_lifecycle
from python_buildpack.reporting import errors

FILE_NAME = ".python-version"
RUNTIME_TXT = "runtime.txt"
# pyenv itself reads at most a few lines; a big file is a mistake.
_MAX_BYTES = 4096

# pyenv's spelling: `3.13t` / `3.13.0t` is the free-threaded build (PEP 703).
_VERSION = re.compile(r"(?:python-?)?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:a|b|rc)\d+)?(t)?\Z", re.I | re.ASCII)
# How the mirror's free-threaded entries are listed among the versions (manifest
# `"free_threaded": true`): the same suffix, which no plain version has.
FREE_THREADED_SUFFIX = "t"


def listed_as(version: str, free_threaded: bool) -> str:
    """A mirror entry among the versions: `3.13.0`, or `3.13.0t` for a free-threaded build."""
    return version + (FREE_THREADED_SUFFIX if free_threaded else "")
_OTHER_IMPLEMENTATIONS = (
    "pypy", "jython", "ironpython", "graalpy", "graalpython", "micropython", "stackless",
    "miniconda", "anaconda", "mambaforge", "miniforge", "pyston", "activepython", "cinder",
    "nogil",
)


@dataclass(frozen=True)
class VersionRequest:
    """A requested CPython version: major, optional minor and patch, optional pre-release."""

    text: str
    origin: str
    major: int
    minor: int | None = None
    patch: int | None = None
    prerelease: str | None = None
    free_threaded: bool = False

    @property
    def version(self) -> str:
        """The version itself, as the mirror lists it: `3.10.0` for `python-3.10.0`."""
        parts = [str(part) for part in (self.major, self.minor, self.patch) if part is not None]
        return listed_as(".".join(parts) + (self.prerelease or ""), self.free_threaded)

    def matches(self, version: Version) -> bool:
        if self.prerelease is None and version.is_prerelease:
            return False
        wanted = [self.major, self.minor, self.patch]
        actual = [version.major, version.minor, version.micro]
        prefix_ok = all(w is None or w == a for w, a in zip(wanted, actual))
        if self.prerelease is not None:
            return prefix_ok and version.pre is not None and \
                f"{version.pre[0]}{version.pre[1]}" == self.prerelease
        return prefix_ok


def parse_request(text: str, origin: str) -> VersionRequest:
    """Parse one version token (`3`, `3.12`, `3.12.1`, `python-3.12`, `3.13.0rc1`)."""
    value = text.strip()
    lowered = value.lower()
    if any(lowered.startswith(name) for name in _OTHER_IMPLEMENTATIONS):
        raise errors.python_version_unsupported_implementation(value, origin)
    if lowered == "system":
        raise errors.python_version_system(origin)
    match = _VERSION.match(value)
    if not match:
        raise errors.python_version_invalid(value, origin)
    major, minor, patch, pre, free_threaded = match.groups()
    return VersionRequest(
        text=value,
        origin=origin,
        major=int(major),
        minor=None if minor is None else int(minor),
        patch=None if patch is None else int(patch),
        prerelease=pre.lower() if pre else None,
        free_threaded=free_threaded is not None,
    )


def parse_version_file(content: bytes, name: str = FILE_NAME) -> tuple[str, list[str]]:
    """Return the first version token of a .python-version file and the others.

    As pyenv does: blank lines and `#` comments are ignored, whitespace, CRLF
    and a UTF-8 byte order mark are tolerated.
    """
    if len(content) > _MAX_BYTES:
        raise errors.python_version_unreadable(
            name, f"The file is {len(content)} bytes; it should hold one short line.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.python_version_unreadable(
            name, f"The file is not UTF-8 text (byte {exc.start} is {content[exc.start]:#04x}).") from exc
    if "\0" in text:
        raise errors.python_version_unreadable(name, "The file contains NUL bytes; it is not text.")
    tokens = [
        token
        for line in text.splitlines()
        if not line.strip().startswith("#")
        for token in line.split()
    ]
    if not tokens:
        raise errors.python_version_empty(name)
    return tokens[0], tokens[1:]


def read_small_file(app_dir: Path, name: str) -> bytes | None:
    """The file's bytes (at most a little over the size limit), None when absent."""
    path = app_dir / name
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():
        raise errors.file_not_regular(name)
    with open(path, "rb") as handle:
        return handle.read(_MAX_BYTES + 1)


def parse_available(versions: list[str]) -> list[Version]:
    parsed = []
    for text in versions:
        try:
            parsed.append(Version(text))
        except InvalidVersion:
            continue
    return sorted(parsed)


def of_build(available: list[str], free_threaded: bool) -> list[str]:
    """The mirror's versions of one build: the free-threaded ones (without their
    suffix) or the others."""
    suffix = FREE_THREADED_SUFFIX
    if free_threaded:
        return [text[:-len(suffix)] for text in available if text.endswith(suffix)]
    return [text for text in available if not text.endswith(suffix)]


def resolve(request: VersionRequest | None, available: list[str]) -> str:
    """The newest available version matching the request (None: newest stable).
    A free-threaded request is met only by a free-threaded entry, and the
    others only by the others."""
    versions = parse_available(of_build(available, request is not None and request.free_threaded))
    candidates = [v for v in versions if request is None or request.matches(v)]
    if request is None:
        candidates = [v for v in versions if not v.is_prerelease]
    if candidates:
        return str(candidates[-1])
    same_line = [
        str(v) for v in versions
        if request is not None and (v.major, v.minor) == (request.major, request.minor)
    ]
    raise errors.python_version_not_available(
        request.version if request else "(latest)",
        request.origin if request else "The default",
        request.text if request else None,
        same_line,
        _listed(available),
    )


def _listed(available: list[str]) -> list[str]:
    """The mirror's versions in order, free-threaded ones with their suffix."""
    plain = [str(v) for v in parse_available(of_build(available, False))]
    threaded = [f"{v}{FREE_THREADED_SUFFIX}" for v in parse_available(of_build(available, True))]
    return plain + threaded


@dataclass(frozen=True)
class VersionChoice:
    """The resolved version, which rule chose it, and what the user should hear."""

    version: str
    reason: str
    notices: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    free_threaded: bool = False


@dataclass(frozen=True)
class PinnedVersion:
    """What the app's own version file asks for."""

    request: VersionRequest
    origin: str  # the file
    reason: str
    notices: list[str]
    warnings: list[tuple[str, str]]


def pinned_version(version_file: bytes | None, runtime_txt: bytes | None) -> PinnedVersion | None:
    """The app's pin: .python-version, else runtime.txt (Heroku's), else None."""
    if version_file is not None:
        token, others = parse_version_file(version_file)
        warnings = []
        if others:
            warnings.append((f"{FILE_NAME} names several versions; the first is used",
                             f"Using {token}; ignoring {', '.join(others)}."))
        notices = [] if runtime_txt is None else [f"Ignoring {RUNTIME_TXT}: {FILE_NAME} takes precedence."]
        return PinnedVersion(parse_request(token, FILE_NAME), FILE_NAME, f"from {FILE_NAME} ({token})",
                             notices, warnings)
    if runtime_txt is not None:
        token, _ = parse_version_file(runtime_txt, RUNTIME_TXT)
        notices = [f"Using {RUNTIME_TXT} (Heroku style); this platform reads {FILE_NAME}: "
                   f"consider replacing it with a {FILE_NAME}."]
        return PinnedVersion(parse_request(token, RUNTIME_TXT), RUNTIME_TXT,
                             f"from {RUNTIME_TXT} ({token})", notices, [])
    return None


def version_warnings(request: VersionRequest | None, version: str, available: list[str],
                     today: datetime.date | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """Warnings (an old patch pinned, a line past its end of life) and notices (a
    line near it) for the chosen version, on `today` (default: the build's day)."""
    warnings = []
    chosen = Version(version)
    line = f"{chosen.major}.{chosen.minor}"
    if request is not None and request.patch is not None:
        line_request = dataclasses.replace(request, patch=None, prerelease=None, text=line)
        newest = resolve(line_request, available)
        if Version(newest) > chosen:
            warnings.append((f"Python {version} is not the newest {line} release",
                             f"{newest} is available with security and bug fixes. Pin"
                             f" `{line_request.version}` in {FILE_NAME} to always get the newest {line}.x."))
    ended, near = python_lifecycle.lifecycle_messages(
        line, today or datetime.date.today(), newest_line(available))
    return warnings + ended, near


def newest_line(available: list[str]) -> str:
    stable = [v for v in parse_available(of_build(available, False)) if not v.is_prerelease]
    return f"{stable[-1].major}.{stable[-1].minor}" if stable else "3.12"
