"""Which file declares the app's packages, and so which manager installs them.

At most one of requirements.txt, uv.lock, poetry.lock, Pipfile.lock and
pylock.toml may say what to install. One exception: a requirements.txt next to
a lock is accepted when it is an export of that lock (LeanEngine needed a
requirements.txt, so apps that moved to a lock kept one); the install step
checks that it pins exactly what the lock pins, and installs from the lock.

A pyproject.toml with neither is installed as a project (`pip install .`).
Pure reading: the tools that check a lock against its pyproject.toml run in
the install step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from python_buildpack.analysis import project_files
from python_buildpack.analysis.project_files import PYPROJECT
from python_buildpack.reporting import errors

REQUIREMENTS = "requirements.txt"
PIPFILE = "Pipfile"
# Each lock, and the manager that wrote it.
LOCKS = {"uv.lock": "uv", "poetry.lock": "poetry", "Pipfile.lock": "pipenv", "pylock.toml": "pylock"}
MANIFEST_FILES = (REQUIREMENTS, PYPROJECT, *LOCKS, PIPFILE)
# The file a lock is checked against: it must be uploaded with the lock.
DECLARED_IN = {"uv": PYPROJECT, "poetry": PYPROJECT, "pipenv": PIPFILE}
LOCK_COMMANDS = {
    "uv": "uv lock",
    "poetry": "poetry lock",
    "pipenv": "pipenv lock",
    "pylock": "uv export --format pylock.toml -o pylock.toml (or: pip lock)",
}


@dataclass(frozen=True)
class DependencyManifest:
    manager: str  # requirements | uv | poetry | pipenv | pylock | pyproject | none
    lock: str | None = None  # the lock file installed from
    beside_requirements: bool = False  # a requirements.txt too: it must be the lock's export
    is_package: bool = False  # the project itself is installed after its locked dependencies
    lock_python: str | None = None  # the Python requirement the lock records (PEP 440)
    project_python: str | None = None  # requires-python of pyproject.toml (PEP 440)

    @property
    def files(self) -> tuple[str, ...]:
        """The files whose content decides what is installed (the cache key)."""
        if self.manager == "requirements":
            return (REQUIREMENTS,)
        declared = DECLARED_IN.get(self.manager, PYPROJECT if self.manager != "none" else None)
        names = [name for name in (self.lock, declared) if name]
        return tuple(names)

    def describe(self) -> str:
        if self.lock:
            return f"{self.lock} ({_TOOL_NAMES[self.manager]})"
        return {"requirements": REQUIREMENTS, "pyproject": f"{PYPROJECT} (no lock: pip install .)"}.get(
            self.manager, "no dependency manifest"
        )


_TOOL_NAMES = {"uv": "uv", "poetry": "Poetry", "pipenv": "Pipenv", "pylock": "PEP 751"}


def has_manifest(app_dir: Path) -> bool:
    """Whether any file that declares dependencies is there (bin/detect)."""
    return any((app_dir / name).is_file() for name in MANIFEST_FILES)


def find_manifest(app_dir: Path) -> DependencyManifest:
    """The app's dependency manifest; an error when it is ambiguous or incomplete."""
    locks = [name for name in LOCKS if _present(app_dir, name)]
    has_requirements = _present(app_dir, REQUIREMENTS)
    if len(locks) > 1:
        raise errors.several_managers(locks + ([REQUIREMENTS] if has_requirements else []))
    pyproject = project_files.read_toml(app_dir, PYPROJECT) if _present(app_dir, PYPROJECT) else None
    project_python = _project_python(pyproject) if pyproject is not None else None
    if locks:
        return _locked(app_dir, locks[0], pyproject, has_requirements, project_python)
    if has_requirements:
        return DependencyManifest("requirements", project_python=project_python)
    if _present(app_dir, PIPFILE):
        raise errors.pipfile_without_lock()
    if pyproject is not None:
        if not project_files.table(pyproject, "project") and not project_files.table(
            pyproject, "tool", "poetry"
        ):
            raise errors.pyproject_without_project()
        return DependencyManifest("pyproject", is_package=True, project_python=project_python)
    return DependencyManifest("none")


def _locked(
    app_dir: Path,
    lock: str,
    pyproject: dict[str, Any] | None,
    beside_requirements: bool,
    project_python: str | None,
) -> DependencyManifest:
    manager = LOCKS[lock]
    declared = DECLARED_IN.get(manager)
    if declared and not _present(app_dir, declared):
        raise errors.lock_without_declaration(lock, declared, LOCK_COMMANDS[manager])
    document = (
        project_files.read_json(app_dir, lock)
        if manager == "pipenv"
        else project_files.read_toml(app_dir, lock)
    )
    return DependencyManifest(
        manager,
        lock=lock,
        beside_requirements=beside_requirements,
        is_package=_is_package(manager, pyproject or {}),
        lock_python=_lock_python(manager, document, lock),
        project_python=project_python,
    )


def _present(app_dir: Path, name: str) -> bool:
    path = app_dir / name
    return path.exists() or path.is_symlink()


def _is_package(manager: str, pyproject: dict[str, Any]) -> bool:
    """Whether the lock's tool installs the project itself, as its own sync would."""
    has_build_system = bool(project_files.table(pyproject, "build-system"))
    if manager == "uv":
        explicit = project_files.table(pyproject, "tool", "uv").get("package")
        return explicit if isinstance(explicit, bool) else has_build_system
    if manager == "poetry":
        return project_files.table(pyproject, "tool", "poetry").get("package-mode", True) is not False and (
            has_build_system
        )
    return False  # a Pipfile app is no package; pylock.toml lists the project among its packages


def _project_python(pyproject: dict[str, Any]) -> str | None:
    declared = project_files.string(pyproject, "project", "requires-python")
    if declared is None:  # Poetry 1 style: the python "dependency"
        declared = project_files.string(pyproject, "tool", "poetry", "dependencies", "python")
    return _as_specifier(declared, PYPROJECT) if declared else None


def _lock_python(manager: str, document: dict[str, Any], lock: str) -> str | None:
    if manager in ("uv", "pylock"):
        declared = project_files.string(document, "requires-python")
    elif manager == "poetry":
        declared = project_files.string(document, "metadata", "python-versions")
    else:
        full = project_files.string(document, "_meta", "requires", "python_full_version")
        line = project_files.string(document, "_meta", "requires", "python_version")
        declared = f"=={full}" if full else (f"=={line}.*" if line else None)
    return _as_specifier(declared, lock) if declared else None


_POETRY_CONSTRAINT = re.compile(r"^\s*([\^~])\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$")


def _as_specifier(declared: str, origin: str) -> str | None:
    """A PEP 440 specifier set; Poetry's `^3.11` and `~3.11` are translated, `*` is none."""
    text = declared.strip()
    if text in ("", "*"):
        return None
    poetry = _POETRY_CONSTRAINT.match(text)
    if poetry:
        operator, major, minor, patch = poetry.groups()
        parts = [int(major), int(minor or 0), int(patch or 0)]
        if operator == "^":
            upper = f"{parts[0] + 1}" if parts[0] else f"0.{parts[1] + 1}"
        else:
            upper = f"{parts[0]}.{parts[1] + 1}" if minor is not None else f"{parts[0] + 1}"
        text = f">={'.'.join(str(part) for part in parts)},<{upper}"
    try:
        SpecifierSet(text.replace(" || ", ","))
    except InvalidSpecifier:
        raise errors.manifest_bad_python(origin, declared) from None
    return text
