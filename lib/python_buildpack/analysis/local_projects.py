"""Requirement lines that name a project inside the app (`-e ./pkg`, `./pkg`,
`name @ file:./pkg`, `./dist/pkg.tar.gz`), and what of them the install step
depends on.

The install layer is keyed by the requirement files' text, which says nothing
about the projects they point to. So each local project adds its own part to
the key: for an editable install, its metadata files and the names at its top
level (the installed finder maps top-level packages, so a new one needs a
reinstall, while edited code is read live from the app); for a plain install
(a copy into site-packages), every file it holds.
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.analysis.requirement_includes import include_target, logical_lines

_EDITABLE_SHORT = re.compile(r"^-e\s*=?\s*(?P<target>\S+)")
_EDITABLE_LONG = re.compile(r"^--(?P<option>[a-z-]+)(?:\s*=\s*|\s+)(?P<target>\S+)")
_DIRECT_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?\s*@\s*(?P<url>\S+)")
METADATA_FILES = ("pyproject.toml", "setup.py", "setup.cfg")
# What a build writes into a project, or what is never imported: not part of the key.
_NOT_SOURCE = ("__pycache__", "build", "dist", ".git", ".hg", ".tox", ".venv", ".eggs")


@dataclass(frozen=True)
class LocalProject:
    path: Path  # resolved, inside the app: a project directory or an archive file
    editable: bool


def local_target(line: str) -> tuple[str, bool] | None:
    """The local path a requirement line installs, and whether editable; None when
    the line names no local path (a PyPI name, a VCS or web URL, an option)."""
    editable = _editable_target(line)
    target = editable if editable is not None else _plain_target(line)
    if target is None:
        return None
    target = target.split("#", 1)[0]
    if target.startswith("file:"):
        target = urllib.parse.unquote(urllib.parse.urlsplit(target).path) or "."
    elif "://" in target or re.match(r"^[a-z]+\+", target):
        return None  # a VCS or web URL
    target = re.sub(r"\[[^\]]*\]$", "", target)
    return target, editable is not None


def _editable_target(line: str) -> str | None:
    short = _EDITABLE_SHORT.match(line)
    if short:
        return short.group("target")
    long = _EDITABLE_LONG.match(line)
    # pip takes unambiguous abbreviations of long options (`--edit`).
    if long and len(long.group("option")) >= 3 and "editable".startswith(long.group("option")):
        return long.group("target")
    return None


def _plain_target(line: str) -> str | None:
    if line.startswith("-"):
        return None
    direct = _DIRECT_URL.match(line)
    if direct:
        return direct.group("url") if direct.group("url").startswith("file:") else None
    token = re.split(r"\s|;", line, maxsplit=1)[0]
    # pip reads a requirement as a path when it looks like one.
    return token if token.startswith((".", "/")) or "/" in token else None


def find_local_projects(app_dir: Path, requirement_files: list[Path]) -> list[LocalProject]:
    """The projects inside the app that the requirement files install (pip
    resolves their relative paths from the app root, where it runs)."""
    root = app_dir.resolve()
    found: dict[Path, LocalProject] = {}
    for path in requirement_files:
        for line in logical_lines(path.read_text(errors="replace")):
            if include_target(line) is not None:
                continue
            target = local_target(line)
            if target is None:
                continue
            resolved = (app_dir / target[0]).resolve()
            if resolved.is_relative_to(root) and resolved.exists():
                found.setdefault(resolved, LocalProject(resolved, target[1]))
    return sorted(found.values(), key=lambda project: str(project.path))


def project_digest(project: LocalProject, root: Path) -> str:
    """What the install of this project depends on, as a digest (see the module doc)."""
    digest = hashlib.sha256(str(project.path.relative_to(root)).encode())
    digest.update(b"editable" if project.editable else b"copy")
    if project.path.is_file():
        digest.update(project.path.read_bytes())
    elif project.editable:
        for name in METADATA_FILES:
            metadata = project.path / name
            digest.update(name.encode() + (metadata.read_bytes() if metadata.is_file() else b"-"))
        for entry in _top_level_names(project.path):
            digest.update(entry.encode() + b"\0")
    else:
        for path in _source_files(project.path):
            digest.update(str(path.relative_to(project.path)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _top_level_names(project: Path) -> list[str]:
    """Names at the project's top level and under src/ (where packages live)."""
    names = []
    for directory in (project, project / "src"):
        if directory.is_dir():
            # Relative to the project: the app itself (a locked package) is
            # built in a new directory each time, whose name is no input.
            names += [str(entry.relative_to(project)) for entry in directory.iterdir()
                      if _is_source(entry.name)]
    return sorted(names)


def _source_files(project: Path) -> list[Path]:
    return sorted(path for path in project.rglob("*")
                  if path.is_file() and not path.is_symlink()
                  and all(_is_source(part) for part in path.relative_to(project).parts))


def _is_source(name: str) -> bool:
    return not (name.startswith(".") or name in _NOT_SOURCE or name.endswith((".egg-info", ".pyc")))
