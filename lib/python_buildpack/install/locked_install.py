"""The default install of an app whose dependencies come from a lock, or from
a pyproject.toml without one.

A lock is installed exactly: its tool exports the default group with hashes
(lock_export), the installer installs those pins without resolving anything
(`--no-deps --require-hashes`), then the project itself when it is a package
(editable, without dependencies). What the build adds (the web server, the
line's setuptools, packages of systemDependencies) goes in afterwards,
constrained to the lock's versions, so it can add packages but never move a
locked one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from python_buildpack.analysis import project_files, requirement_files
from python_buildpack.analysis.dependency_manifest import DependencyManifest
from python_buildpack.install import lock_export, pip_install
from python_buildpack.install.lock_export import LockedRequirements
from python_buildpack.reporting import errors, output
from python_buildpack.runtime.python_runtime import InstalledRuntime

LOCK_MANAGERS = ("uv", "poetry", "pipenv", "pylock")


def install_lock(
    manifest: DependencyManifest,
    app_dir: Path,
    installed: InstalledRuntime,
    *,
    installer_env: tuple[str, dict[str, str], dict[str, str]],
    added: list[str],
    keep_project: bool = False,
) -> list[str]:
    """Install the lock, the project and `added`; returns what was installed on
    purpose: the lock's and the project's names, and the added requirements.
    keep_project: an in-place update of an environment that already holds the
    project, unchanged (its build costs a second; its pins changed, not it)."""
    installer, pip_env, uv_env = installer_env
    env = uv_env if installer == "uv" else pip_env
    with tempfile.TemporaryDirectory(prefix="lock-export-") as work:
        locked = lock_export.export(manifest, app_dir, Path(work), uv_env, installed.python)
        if manifest.beside_requirements:
            check_requirements_export(manifest, app_dir, locked)
        output.info(f"Installing exactly {manifest.describe()}: {len(locked.pins)} packages, hashes checked")
        pip_install.install_locked(installed, locked.path, app_dir, env, installer)
        if manifest.is_package and keep_project:
            output.info("The project itself is unchanged since the cached install: kept as installed")
        elif manifest.is_package:
            output.info(
                f"Installing the project itself (editable, as {manifest.describe()} says it is a package)"
            )
            pip_install.install_project(installed, app_dir, env, installer)
        extra = tuple(
            requirement
            for requirement in added
            if requirement_files.requirement_name(requirement) not in locked.pins
        )
        constraints = Path(work) / "lock-constraints.txt"
        constraints.write_text(
            "".join(f"{name}=={version}\n" for name, version in sorted(locked.pins.items()))
        )
        pip_install.install_extras(
            installed, app_dir, env, extra, constraints=constraints, installer=installer
        )
    project = [project_name(app_dir)] if manifest.is_package else []
    return [*locked.pins, *project, *extra]


def install_pyproject(
    app_dir: Path, installed: InstalledRuntime, installer: str, env: dict[str, str], added: list[str]
) -> None:
    """No lock: the project with its dependencies, resolved now (warned about)."""
    output.warning(
        "pyproject.toml has no lock: its dependencies are resolved anew on every build",
        "The versions installed can change from one build to the next. Lock them: `uv lock` (or"
        " `poetry lock`), and upload the lock with pyproject.toml.",
    )
    pip_install.install_requirements(installed, app_dir, env, ("--editable", ".", *added), installer)


def project_name(app_dir: Path) -> str:
    """The project's distribution name (a root that an in-place update keeps)."""
    document = project_files.read_toml(app_dir, project_files.PYPROJECT)
    name = project_files.string(document, "project", "name") or project_files.string(
        document, "tool", "poetry", "name"
    )
    return name or app_dir.name


def project_dependency_names(app_dir: Path) -> set[str]:
    """The names in [project].dependencies of pyproject.toml."""
    declared = project_files.read_toml(app_dir, project_files.PYPROJECT).get("project")
    dependencies = declared.get("dependencies") if isinstance(declared, dict) else None
    lines = [line for line in dependencies if isinstance(line, str)] if isinstance(dependencies, list) else []
    return {name for name in map(requirement_files.requirement_name, lines) if name}


def check_requirements_export(
    manifest: DependencyManifest, app_dir: Path, locked: LockedRequirements
) -> None:
    """A requirements.txt beside the lock must pin what the lock pins: then it is
    the lock's export, kept for the platforms that need one, and ignored here."""
    exported = lock_export.pins_of("\n".join(requirement_files.requirement_lines(app_dir)))
    differences = [
        f"{name}: requirements.txt {exported.get(name, '(absent)')},"
        f" {manifest.lock} {locked.pins.get(name, '(absent)')}"
        for name in sorted(set(exported) | set(locked.pins))
        if exported.get(name) != locked.pins.get(name)
    ]
    if differences or not exported:
        raise errors.requirements_differ_from_lock(
            manifest.lock or "", differences or ["requirements.txt pins nothing"]
        )
    output.info(
        f"requirements.txt pins exactly what {manifest.lock} pins (it is its export):"
        " installing from the lock"
    )
