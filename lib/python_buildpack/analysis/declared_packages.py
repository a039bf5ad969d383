"""The packages an app declares, with what it allows of each, read from its
dependency manifest before anything installs (the version policy needs them
to know which Python lines the app can install on).

A lock gives every package it pins, dependencies of dependencies included,
with the exact version; requirements.txt, pyproject.toml and a Pipfile give
the names the app wrote and their specifiers. Pure reading of the upload.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from python_buildpack.analysis import project_files, requirement_files
from python_buildpack.analysis.dependency_manifest import DependencyManifest
from python_buildpack.analysis.project_files import PYPROJECT


@dataclass(frozen=True)
class DeclaredPackage:
    name: str  # canonical
    allowed: SpecifierSet  # what the app lets the installer pick (empty: any release)
    locked: Version | None = None  # the release a lock pins


def declared_packages(app_dir: Path, manifest: DependencyManifest) -> dict[str, DeclaredPackage]:
    """By canonical name; a name the manifest mentions twice keeps its first entry."""
    if manifest.lock:
        entries = _locked(app_dir, manifest)
    elif manifest.manager == "requirements":
        entries = [_from_requirement(line) for line in requirement_files.requirement_lines(app_dir)]
    elif manifest.manager == "pyproject":
        entries = _from_pyproject(project_files.read_toml(app_dir, PYPROJECT))
    else:
        entries = []
    found: dict[str, DeclaredPackage] = {}
    for entry in entries:
        if entry is not None:
            found.setdefault(entry.name, entry)
    return found


def _from_requirement(text: str) -> DeclaredPackage | None:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    return DeclaredPackage(canonicalize_name(requirement.name), requirement.specifier)


def _from_pyproject(document: dict[str, Any]) -> list[DeclaredPackage | None]:
    listed = project_files.table(document, "project").get("dependencies")
    entries = [_from_requirement(item) for item in listed if isinstance(item, str)] \
        if isinstance(listed, list) else []
    poetry = project_files.table(document, "tool", "poetry", "dependencies")
    entries += [_named(name, value) for name, value in poetry.items() if name.lower() != "python"]
    return entries


def _named(name: str, constraint: Any) -> DeclaredPackage:
    """A Poetry or Pipfile entry: a PEP 440 constraint where it is one, else any release."""
    allowed = SpecifierSet()
    text = constraint.get("version") if isinstance(constraint, dict) else constraint
    if isinstance(text, str) and text.strip() not in ("", "*"):
        # Poetry's ^ and ~ are no PEP 440: the version policy treats the package as unbounded.
        with contextlib.suppress(InvalidSpecifier):
            allowed = SpecifierSet(text)
    return DeclaredPackage(canonicalize_name(name), allowed)


def _locked(app_dir: Path, manifest: DependencyManifest) -> list[DeclaredPackage | None]:
    lock = manifest.lock or ""
    if manifest.manager == "pipenv":
        document = project_files.read_json(app_dir, lock)
        default = project_files.table(document, "default")
        pins = [(name, entry.get("version", "").lstrip("=")) for name, entry in default.items()
                if isinstance(entry, dict)]
        return [_pinned(name, version) for name, version in pins]
    document = project_files.read_toml(app_dir, lock)
    packages = document.get("packages" if manifest.manager == "pylock" else "package")
    rows = packages if isinstance(packages, list) else []
    return [_pinned(row.get("name"), row.get("version")) for row in rows if isinstance(row, dict)]


def _pinned(name: Any, version: Any) -> DeclaredPackage | None:
    if not isinstance(name, str) or not name:
        return None
    try:
        locked = Version(version) if isinstance(version, str) else None
    except InvalidVersion:
        locked = None
    return DeclaredPackage(canonicalize_name(name), SpecifierSet(), locked)
