"""The app's requirement files as pip reads them: requirements.txt and what it
includes, their requirement lines and project names, and whether they are all
plain PEP 508 requirements (which the in-place update needs).

Pure reading of the upload: the analysis checks them before anything runs,
and the install step and its cache key read the same lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from python_buildpack.analysis.requirement_includes import include_target, logical_lines

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def files_of(app_dir: Path) -> list[Path]:
    """requirements.txt and the files it includes (`-r`, `-c`) inside the app."""
    found: list[Path] = []
    pending = [app_dir / "requirements.txt"]
    root = app_dir.resolve()
    while pending and len(found) < 50:
        current = pending.pop(0).resolve()
        if current in found or not current.is_file() or not current.is_relative_to(root):
            continue
        found.append(current)
        for line in logical_lines(current.read_text(errors="replace")):
            include = include_target(line)
            if include:
                pending.append(current.parent / include)
    return found


def content_lines(app_dir: Path) -> Iterator[str]:
    """The lines of the app's requirement files without comments, blanks and includes."""
    for path in files_of(app_dir):
        for line in logical_lines(path.read_text(errors="replace")):
            if include_target(line) is None:
                yield line


def requirement_lines(app_dir: Path) -> list[str]:
    """Every requirement-looking line of the app's requirement files (options dropped)."""
    return [line for line in content_lines(app_dir) if not line.startswith("-")]


def requirement_names(app_dir: Path) -> set[str]:
    """Canonical project names in the app's requirement files."""
    names = (requirement_name(line) for line in requirement_lines(app_dir))
    return {name for name in names if name}


def requirement_name(line: str) -> str | None:
    """The canonical project name a requirement line starts with."""
    match = _NAME.match(line)
    return canonicalize_name(match.group(1)) if match else None


def plain_requirements(app_dir: Path) -> list[str] | None:
    """The app's requirements if every line is a plain PEP 508 requirement
    (no paths, URLs, editables or options other than -r/-c); else None."""
    plain: list[str] = []
    for line in content_lines(app_dir):
        if line.startswith("-") or line.endswith("\\"):
            return None
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            return None
        if requirement.url:
            return None
        plain.append(line)
    return plain
