"""A lock turned into what pip and uv install exactly: a requirements file of
the default group's pins, each with its hashes, written by the lock's own tool.

Each tool also checks that its lock is up to date with what it was made from
(`uv export --locked`, `poetry check --lock`, `pipenv verify`): a stale lock
is an error, never a re-resolve. A pylock.toml (PEP 751) needs no export: uv
installs it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from python_buildpack.analysis import project_files
from python_buildpack.analysis.dependency_manifest import DECLARED_IN, LOCK_COMMANDS, DependencyManifest
from python_buildpack.analysis.requirement_includes import logical_lines
from python_buildpack.install import manager_tools
from python_buildpack.reporting import errors, output
from python_buildpack.support import commands

# What each tool prints when its lock no longer matches the project.
_STALE_SIGNS = {
    "uv": ("needs to be updated",),
    "poetry": (
        "pyproject.toml changed significantly",
        "not consistent with pyproject.toml",
        "run `poetry lock",
    ),
    "pipenv": ("out-of-date", "out of date"),
}


@dataclass(frozen=True)
class LockedRequirements:
    path: Path  # what the installer reads: the export, or pylock.toml itself
    pins: dict[str, str]  # canonical name -> locked version (default group, all platforms)


def export(
    manifest: DependencyManifest, app_dir: Path, work: Path, uv_env: Mapping[str, str], python: Path
) -> LockedRequirements:
    """The lock's default group, pinned with hashes, checked to be up to date."""
    lock = manifest.lock or ""
    if manifest.manager == "pylock":
        return LockedRequirements(app_dir / lock, _pylock_pins(app_dir, lock))
    target = work / "locked-requirements.txt"
    if manifest.manager == "uv":
        argv = [
            manager_tools.uv_binary(),
            "export",
            # uv checks the lock against the project by resolving it for this
            # interpreter (without one it takes whatever python3 is on PATH).
            "--python",
            str(python),
            "--locked",
            "--no-default-groups",
            "--format",
            "requirements-txt",
            "--no-emit-project",
            "--no-header",
            "--output-file",
            str(target),
        ]
        _run(manifest, manager_tools.Step(argv), app_dir, uv_env)
    else:
        tool = manager_tools.ensure(manifest.manager)
        for step in tool.check_and_export(target):
            _run(manifest, step, app_dir, tool.environment(app_dir, work))
    text = target.read_text()
    output.info(
        f"Exported the default dependencies of {manifest.lock}: {len(pins_of(text))} pinned with hashes"
    )
    return LockedRequirements(target, pins_of(text))


def _run(
    manifest: DependencyManifest, step: manager_tools.Step, app_dir: Path, env: Mapping[str, str]
) -> None:
    lock = manifest.lock or ""
    try:
        if step.stdout_to is None:
            commands.run(step.argv, env=env, cwd=app_dir, echo=False)
        else:
            step.stdout_to.write_text(commands.capture(step.argv, env=env, cwd=app_dir))
    except commands.CommandFailed as failure:
        told = [line for line in failure.tail if line.strip()]
        text = "\n".join(told).lower()
        if any(sign.lower() in text for sign in _STALE_SIGNS.get(manifest.manager, ())):
            raise errors.lock_out_of_date(
                lock, DECLARED_IN[manifest.manager], LOCK_COMMANDS[manifest.manager], told
            ) from None
        raise errors.lock_unusable(lock, manager_tools.display_name(manifest.manager), told) from None


def pins_of(text: str) -> dict[str, str]:
    """name -> version of every `name==version` line of a requirements file."""
    pins: dict[str, str] = {}
    for line in logical_lines(text):
        if line.startswith("-"):
            continue
        try:
            requirement = Requirement(line.split(" --hash", 1)[0].strip())
        except InvalidRequirement:
            continue
        exact = [spec.version for spec in requirement.specifier if spec.operator in ("==", "===")]
        if exact:
            pins[canonicalize_name(requirement.name)] = exact[0]
    return pins


def _pylock_pins(app_dir: Path, name: str) -> dict[str, str]:
    document = project_files.read_toml(app_dir, name)
    packages = document.get("packages")
    if not isinstance(packages, list):
        raise errors.lock_unusable(name, "The build", ["it has no [[packages]] array"])
    groups = document.get("default-groups")
    environment = {
        "extras": frozenset(),
        "dependency_groups": frozenset(groups if isinstance(groups, list) else ()),
    }
    pins: dict[str, str] = {}
    for package in packages:
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            continue
        marker = package.get("marker")
        # Only the default groups: a dev group's packages carry `'dev' in dependency_groups`.
        if isinstance(marker, str) and "dependency_groups" in marker:
            try:
                if not Marker(marker).evaluate(environment, context="lock_file"):
                    continue
            except InvalidMarker:
                pass
        pins[canonicalize_name(package["name"])] = str(package.get("version", ""))
    return pins
