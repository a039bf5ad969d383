"""Which CPython to use: `.python-version` parsing and resolution against the mirror.

Parsing and resolution are pure (no I/O) so they can be tested with tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from python_buildpack import errors

FILE_NAME = ".python-version"
# pyenv itself reads at most a few lines; a big file is a mistake.
_MAX_BYTES = 4096

_VERSION = re.compile(r"(?:python-?)?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:a|b|rc)\d+)?\Z", re.I)
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
        raise errors.python_version_unsupported_implementation(value)
    match = _VERSION.match(value)
    if not match:
        raise errors.python_version_invalid(value)
    major, minor, patch, pre = match.groups()
    return VersionRequest(
        text=value,
        origin=origin,
        major=int(major),
        minor=None if minor is None else int(minor),
        patch=None if patch is None else int(patch),
        prerelease=pre.lower() if pre else None,
    )


def parse_version_file(content: bytes) -> tuple[str, list[str]]:
    """Return the first version token of a .python-version file and the others.

    As pyenv does: blank lines and `#` comments are ignored, whitespace, CRLF
    and a UTF-8 byte order mark are tolerated.
    """
    if len(content) > _MAX_BYTES:
        raise errors.python_version_unreadable(
            f"The file is {len(content)} bytes; a .python-version holds one short line.")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.python_version_unreadable(
            f"The file is not UTF-8 text (byte {exc.start} is {content[exc.start]:#04x}).") from exc
    tokens = [
        token
        for line in text.splitlines()
        if not line.strip().startswith("#")
        for token in line.split()
    ]
    if not tokens:
        raise errors.python_version_invalid(text)
    return tokens[0], tokens[1:]


def read_version_file(app_dir: Path) -> tuple[str, list[str]] | None:
    path = app_dir / FILE_NAME
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():
        raise errors.file_not_regular(FILE_NAME)
    return parse_version_file(path.read_bytes()[: _MAX_BYTES + 1])


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
        request.text if request else "(latest)",
        request.origin if request else "The default",
        same_line,
        [str(v) for v in versions],
    )
