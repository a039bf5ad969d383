"""The system-dependencies step of bin/compile: before the install step, so
that pip can build against what it unpacks.

The unpacked tree is cached as a layer keyed by the hooks, the package source
and the build image's installed packages (which decide what is downloaded);
the .deb files stay in apt's cache, so a changed list downloads only what is new.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from python_buildpack.cache.build_cache import BuildCache
from python_buildpack.reporting import build_report, output
from python_buildpack.support import file_snapshot, slug_layout
from python_buildpack.system import debian_packages, system_tree
from python_buildpack.system.debian_packages import AptSource, DebPackage
from python_buildpack.system.system_registry import Hook

TREE_DIR = "system"  # under the slug's .lean
PROFILE_NAME = "00-system-dependencies.sh"  # before python.sh, which puts Python first on PATH
_LAYER_KIND = "system"
_TREE_FORMAT = 1


@dataclass(frozen=True)
class SystemDependencies:
    """What the install step needs: where the tree's programs, headers and
    libraries are, and the PyPI packages the hooks add."""

    path_entries: tuple[str, ...] = ()
    variables: Mapping[str, str] = field(default_factory=dict)
    requirements: tuple[str, ...] = ()
    binary_only: tuple[str, ...] = ()

    def apply(self, env: Mapping[str, str]) -> dict[str, str]:
        """An installer environment that builds against the tree. The runtime's
        own bin stays first on PATH."""
        result = dict(env)
        runtime_bin, _, rest = result.get("PATH", "").partition(":")
        result["PATH"] = ":".join(part for part in (runtime_bin, *self.path_entries, rest) if part)
        result.update(self.variables)
        if self.binary_only:
            result["PIP_ONLY_BINARY"] = ",".join(self.binary_only)
            result["UV_NO_BUILD_PACKAGE"] = " ".join(self.binary_only)
        return result


def provide_system_dependencies(hooks: list[Hook], build_dir: Path, cache_dir: Path,
                                host_env: Mapping[str, str], build_cache: BuildCache | None
                                ) -> SystemDependencies:
    """Unpack the hooks' packages into the slug (or restore them) and write their profile."""
    with_packages = [hook for hook in hooks if hook.packages]
    python_side = SystemDependencies(
        requirements=tuple(hook.python_requirement for hook in hooks if hook.python_requirement),
        binary_only=tuple(name for hook in hooks for name in hook.binary_only))
    if not with_packages:
        return python_side
    output.heading(f"Installing system dependencies: {', '.join(hook.name for hook in with_packages)}")
    tree = build_dir / slug_layout.SLUG_DIR / TREE_DIR
    source = AptSource(cache_dir, host_env)
    key = _layer_key(with_packages, source)
    build_report.record_system_key(key)
    layer = build_cache.find_tree(_LAYER_KIND, key) if build_cache else None
    if layer is not None and build_cache is not None and build_cache.restore_tree(layer, tree):
        size = _megabytes(file_snapshot.directory_size(tree))
        output.info(f"Restored the system packages from the cache ({size}): nothing downloaded")
        build_report.record_cache("system packages", "restored")
    else:
        try:
            _install(with_packages, source, tree)
        except BaseException:
            shutil.rmtree(tree, ignore_errors=True)  # a failed build leaves no half tree
            raise
        if build_cache is not None:
            build_cache.save_tree(_LAYER_KIND, key, tree)
    environment = system_tree.describe(tree, with_packages)
    _write_profile(build_dir, environment)
    return SystemDependencies(tuple(environment.path_entries(tree)),
                              environment.build_variables(tree, host_env),
                              python_side.requirements, python_side.binary_only)


def _install(hooks: list[Hook], source: AptSource, tree: Path) -> None:
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    with source.locked():
        if source.refresh_lists():
            output.info(f"Fetched the Debian package lists from {source.description}")
        wanted = [name for hook in hooks for name in hook.packages]
        everything = source.resolve(wanted)
        owned = _packages_per_hook(hooks, source, everything)
        started = time.monotonic()
        downloaded = source.download(wanted)
    took = time.monotonic() - started
    output.info(f"Downloaded {_megabytes(downloaded)} of Debian packages in {took:.1f} s" if downloaded
                else f"All {len(everything)} Debian packages came from the package cache")
    build_report.record_cache("system packages", f"unpacked; {_megabytes(downloaded)} downloaded")
    for hook, packages in owned:
        before = file_snapshot.directory_size(tree)
        for package in packages:
            debian_packages.unpack(source.archive_of(package), tree)
        system_tree.remove_unused(tree)
        added = file_snapshot.directory_size(tree) - before
        output.info(f"{hook.name}: {hook.summary}; {len(packages)} Debian packages"
                    f" ({', '.join(hook.packages)} and what they need), +{_megabytes(added)}")
    missing = system_tree.finish(tree, hooks)
    if missing:
        output.warning("Some programs of the system dependencies miss a library",
                       "\n".join(missing[:10]) + "\nThey may fail at run time; please report this.")
    output.info(f"System packages in the slug: {_megabytes(file_snapshot.directory_size(tree))}")


def _packages_per_hook(hooks: list[Hook], source: AptSource, everything: list[DebPackage]
                       ) -> list[tuple[Hook, list[DebPackage]]]:
    """Each package of the joint resolution, credited to the first hook that needs it
    (the build log reports what each hook added)."""
    remaining = list(everything)
    owned = []
    for index, hook in enumerate(hooks):
        if index == len(hooks) - 1:
            mine = remaining
        else:
            needed = {package.name for package in source.resolve(hook.packages)}
            mine = [package for package in remaining if package.name in needed]
        remaining = [package for package in remaining if package not in mine]
        owned.append((hook, mine))
    return owned


def _layer_key(hooks: list[Hook], source: AptSource) -> str:
    try:
        image_packages = hashlib.sha256(debian_packages.HOST_STATUS.read_bytes()).hexdigest()
    except OSError:
        image_packages = "unknown"
    description = {
        "format": _TREE_FORMAT,
        "hooks": [asdict(hook) for hook in hooks],
        "source": source.lists.name,  # a digest of the apt sources
        "image_packages": image_packages,
    }
    return hashlib.sha256(json.dumps(description, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _write_profile(build_dir: Path, environment: system_tree.TreeEnvironment) -> None:
    directory = build_dir / ".profile.d"
    directory.mkdir(exist_ok=True)
    (directory / PROFILE_NAME).write_text(
        environment.run_time_script(f"{slug_layout.SLUG_DIR}/{TREE_DIR}"))


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"
