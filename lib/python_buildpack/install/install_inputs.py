"""The inputs of the install step: what its cache layer is keyed on.

When any of them changes, the install step (and every later step) reruns; the
build log names each change. `explain_changes` is pure; `gather` reads files.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from python_buildpack import BUILDPACK_VERSION
from python_buildpack.analysis import leanengine_yaml, local_projects, requirement_files
from python_buildpack.analysis.dependency_manifest import DependencyManifest
from python_buildpack.cache.build_cache import LAYER_FORMAT
from python_buildpack.install import manager_tools
from python_buildpack.install.tool_versions import ToolVersions


@dataclass(frozen=True)
class InstallInputs:
    buildpack: str
    arch: str
    python: str
    archive_sha256: str
    python_version_file: str
    requirements: str
    install_steps: str
    required_files: str
    tools: str
    system_dependencies: str
    web_server: str
    installer: str = "pip"
    manager: str = "requirements"  # which file says what to install, and the tool that reads it
    local_projects: str = ""
    exposed_env: dict[str, str] = field(default_factory=dict)
    # The commit each moving git ref (branch, tag, default branch) named at build time.
    vcs_commits: dict[str, str] = field(default_factory=dict)

    def digest(self) -> str:
        canonical = json.dumps(self.as_dict(), sort_keys=True).encode()
        return hashlib.sha256(canonical).hexdigest()[:24]

    def as_dict(self) -> dict[str, object]:
        """Without git commits when there are none: the key of an app without git
        requirements stays what it was before they were part of it."""
        values = asdict(self)
        if not self.vcs_commits:
            del values["vcs_commits"]
        return values


_SIMPLE_CHANGES = {
    "buildpack": "the buildpack version changed",
    "arch": "the machine architecture changed",
    "archive_sha256": "the Python runtime archive changed",
    "python_version_file": ".python-version changed",
    "requirements": "requirements.txt changed",
    "install_steps": "the install commands in leanengine.yaml changed",
    "required_files": "files named by `require` changed",
    "tools": "the pinned build tools changed",
    "system_dependencies": "systemDependencies changed",
    "web_server": "the web command changed between `run:` and the default server",
    "installer": "PYTHON_INSTALLER changed",
    "manager": "the dependency manifest changed (another lock or manager)",
    "local_projects": "local projects that the requirements install changed",
}


_LOCK_CHANGED = "the lock or pyproject.toml changed"


def explain_changes(previous: Mapping[str, object] | None, current: InstallInputs) -> list[str]:
    """Why the install step reruns, one reason per changed input."""
    if previous is None:
        return ["no cached dependencies yet"]
    now = current.as_dict()
    reasons = []
    implied: set[str] = set()
    if previous.get("python") != now["python"]:
        reasons.append(f"Python changed from {previous.get('python')} to {now['python']}")
        implied = {"archive_sha256", "tools"}  # another version has its own archive and tools
    reasons += [_LOCK_CHANGED if key == "requirements" and current.manager != "requirements" else text
                for key, text in _SIMPLE_CHANGES.items()
                if key not in implied and previous.get(key) != now[key]]
    before = previous.get("exposed_env")
    before_env: Mapping[str, object] = before if isinstance(before, dict) else {}
    changed = sorted(name for name in set(before_env) | set(current.exposed_env)
                     if before_env.get(name) != current.exposed_env.get(name))
    if changed:
        reasons.append(f"environment variables for the install step changed: {', '.join(changed)}")
    reasons += _moved_refs(previous.get("vcs_commits"), current.vcs_commits)
    return reasons or ["the cached dependencies are gone or unusable"]


def _moved_refs(before: object, now: Mapping[str, str]) -> list[str]:
    """One reason per git ref whose commit moved (or that is new)."""
    earlier: Mapping[str, object] = before if isinstance(before, dict) else {}
    return [f"git+{shown} moved from {str(earlier[shown])[:12]} to {commit[:12]}" if shown in earlier
            else f"git+{shown} is new (at {commit[:12]})"
            for shown, commit in sorted(now.items()) if earlier.get(shown) != commit]


def _digest_bytes(chunks: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(len(chunk).to_bytes(8, "big"))
        digest.update(chunk)
    return digest.hexdigest()


def _file_chunks(paths: Iterable[Path], root: Path) -> Iterable[bytes]:
    for path in paths:
        yield str(path.relative_to(root)).encode()
        yield path.read_bytes()


def _tree_files(root: Path, target: Path) -> list[Path]:
    """Regular files at or under target that stay inside root (links are not followed out)."""
    resolved = target.resolve()
    if not resolved.is_relative_to(root):
        return []
    if resolved.is_file():
        return [resolved]
    return sorted(p.resolve() for p in resolved.rglob("*")
                  if p.is_file() and p.resolve().is_relative_to(root))


def gather(
    app_dir: Path,
    config: leanengine_yaml.LeanEngineConfig,
    *,
    python: str,
    archive_sha256: str,
    tools: ToolVersions,
    exposed_env: Mapping[str, str],
    installer: str = "pip",
    projects: Iterable[local_projects.LocalProject] = (),
    manifest: DependencyManifest | None = None,
    vcs_commits: Mapping[str, str] | None = None,
) -> InstallInputs:
    root = app_dir.resolve()
    version_file = app_dir / ".python-version"
    required = [path for name in config.required_files for path in _tree_files(root, app_dir / name)]
    files = requirement_files.files_of(app_dir)
    if manifest is not None and manifest.manager != "requirements":
        files = [app_dir / name for name in manifest.files if (app_dir / name).is_file()]
        if manifest.beside_requirements:
            files += requirement_files.files_of(app_dir)
    return InstallInputs(
        buildpack=f"{BUILDPACK_VERSION}/{LAYER_FORMAT}",
        arch=platform.machine(),
        python=python,
        archive_sha256=archive_sha256,
        python_version_file=_digest_bytes([version_file.read_bytes()]) if version_file.is_file() else "",
        requirements=_digest_bytes(_file_chunks(files, root)),
        install_steps=repr(config.install),
        required_files=_digest_bytes(_file_chunks(required, root)),
        tools=repr(tools),
        system_dependencies=",".join(config.system_dependencies),
        web_server="run" if config.run else "default",
        installer=installer,
        manager=_manager_key(manifest),
        local_projects=_digest_bytes(local_projects.project_digest(project, root).encode()
                                     for project in projects),
        # Values are hashed: the layer's metadata must not hold secrets.
        exposed_env={name: _digest_bytes([value.encode()]) for name, value in sorted(exposed_env.items())},
        vcs_commits=dict(vcs_commits or {}),
    )


def _manager_key(manifest: DependencyManifest | None) -> str:
    """The manager, with the pinned version of the tool that reads its lock."""
    if manifest is None or manifest.manager == "requirements":
        return "requirements"
    return f"{manifest.manager}:{manager_tools.pinned_version(manifest.manager)}"
