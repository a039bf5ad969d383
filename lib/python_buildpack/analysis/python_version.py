"""Which CPython to use: `.python-version` parsing and resolution against the mirror.

Parsing and resolution are pure (no I/O) so they can be tested with tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from python_buildpack.reporting import errors

FILE_NAME = ".python-version"
RUNTIME_TXT = "runtime.txt"
# pyenv itself reads at most a few lines; a big file is a mistake.
_MAX_BYTES = 4096

_VERSION = re.compile(r"(?:python-?)?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:a|b|rc)\d+)?\Z", re.I | re.ASCII)
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

    @property
    def version(self) -> str:
        """The version itself, as the mirror names it: `3.10.0` for `python-3.10.0`."""
        parts = [str(part) for part in (self.major, self.minor, self.patch) if part is not None]
        return ".".join(parts) + (self.prerelease or "")

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
    major, minor, patch, pre = match.groups()
    return VersionRequest(
        text=value,
        origin=origin,
        major=int(major),
        minor=None if minor is None else int(minor),
        patch=None if patch is None else int(patch),
        prerelease=pre.lower() if pre else None,
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


def resolve(request: VersionRequest | None, available: list[str]) -> str:
    """The newest available version matching the request (None: newest stable)."""
    versions = parse_available(available)
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
        [str(v) for v in versions],
    )


# Lines past their end of life upstream (python.org's status page).
END_OF_LIFE = {"2.7": "2020-01-01", "3.6": "2021-12-23", "3.7": "2023-06-27",
               "3.8": "2024-10-07", "3.9": "2025-10-31"}


@dataclass(frozen=True)
class VersionChoice:
    """The resolved version, which rule chose it, and what the user should hear."""

    version: str
    reason: str
    notices: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


def choose_version(
    version_file: bytes | None, runtime_txt: bytes | None, default: str | None, available: list[str]
) -> VersionChoice:
    """Apply the platform's rules, in order: .python-version, runtime.txt, the
    platform default (PYTHON_DEFAULT_VERSION), the newest stable version."""
    notices: list[str] = []
    warnings: list[tuple[str, str]] = []
    request: VersionRequest | None
    if version_file is not None:
        token, others = parse_version_file(version_file)
        request, reason = parse_request(token, FILE_NAME), f"from {FILE_NAME} ({token})"
        if others:
            warnings.append((f"{FILE_NAME} names several versions; the first is used",
                             f"Using {token}; ignoring {', '.join(others)}."))
        if runtime_txt is not None:
            notices.append(f"Ignoring {RUNTIME_TXT}: {FILE_NAME} takes precedence.")
    elif runtime_txt is not None:
        token, _ = parse_version_file(runtime_txt, RUNTIME_TXT)
        request, reason = parse_request(token, RUNTIME_TXT), f"from {RUNTIME_TXT} ({token})"
        notices.append(f"Using {RUNTIME_TXT} (Heroku style); this platform reads {FILE_NAME}: "
                       f"consider replacing it with a {FILE_NAME}.")
    elif default is not None:
        request = parse_request(default, "PYTHON_DEFAULT_VERSION")
        reason = f"from PYTHON_DEFAULT_VERSION ({default}), the platform's default for this app"
    else:
        request, reason = None, "the newest stable version in the mirror (no .python-version)"
    version = resolve(request, available)
    warnings += version_warnings(request, version, available)
    return VersionChoice(version, reason, notices, warnings)


def version_warnings(request: VersionRequest | None, version: str, available: list[str]
                     ) -> list[tuple[str, str]]:
    warnings = []
    chosen = Version(version)
    line = f"{chosen.major}.{chosen.minor}"
    if request is not None and request.patch is not None:
        newest = resolve(VersionRequest(line, request.origin, chosen.major, chosen.minor), available)
        if Version(newest) > chosen:
            warnings.append((f"Python {version} is not the newest {line} release",
                             f"{newest} is available with security and bug fixes. Pin `{line}` in "
                             f"{FILE_NAME} to always get the newest {line}.x."))
    if line in END_OF_LIFE:
        warnings.append((f"Python {line} has reached its end of life",
                         f"Python {line} gets no security fixes since {END_OF_LIFE[line]}. "
                         f"Move to a supported version, e.g. `{_newest_line(available)}`."))
    return warnings


def _newest_line(available: list[str]) -> str:
    stable = [v for v in parse_available(available) if not v.is_prerelease]
    return f"{stable[-1].major}.{stable[-1].minor}" if stable else "3.12"
