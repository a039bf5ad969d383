"""The analysis phase of bin/compile: everything is read and checked before
anything is written (environment, leanengine.yaml, entry point, Python version)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.analysis import (
    app_source,
    committed_environments,
    declared_packages,
    dependency_manifest,
    env_dir,
    incompatible_packages,
    leanengine_yaml,
    procfile,
    python_version,
    requirement_files,
    requirement_includes,
    version_files,
    version_policy,
)
from python_buildpack.analysis.committed_environments import CommittedEnvironment
from python_buildpack.analysis.dependency_manifest import DependencyManifest
from python_buildpack.analysis.leanengine_yaml import LeanEngineConfig
from python_buildpack.cache import python_line
from python_buildpack.reporting import errors, output
from python_buildpack.runtime.mirror import Mirror, RuntimeEntry, read_timeout
from python_buildpack.system import system_registry

CACHE_SUBDIR = "python-buildpack"


@dataclass(frozen=True)
class BuildPlan:
    build_dir: Path  # the upload: the slug root
    app_dir: Path  # what is built: the upload, or its buildRoot
    cache_dir: Path
    app_env: dict[str, str]
    host_env: dict[str, str]
    config: LeanEngineConfig
    mirror: Mirror
    runtime_entry: RuntimeEntry
    version: python_version.VersionChoice
    system_hooks: tuple[system_registry.Hook, ...]
    manifest: DependencyManifest
    committed: tuple[CommittedEnvironment, ...] = ()  # virtual environments and .lean/ in the upload


def setting(name: str, host_env: Mapping[str, str], app_env: Mapping[str, str]) -> str | None:
    """A buildpack setting: the app's ENV_DIR wins over the platform's environment."""
    value = app_env.get(name) or host_env.get(name)
    return value.strip() if value and value.strip() else None


def no_cache_requested(host_env: Mapping[str, str], app_env: Mapping[str, str]) -> bool:
    """BUILD_NO_CACHE: every cached layer, and the previous build's Python line, ignored."""
    value = (setting("BUILD_NO_CACHE", host_env, app_env) or "").lower()
    return value not in ("", "0", "false", "no")


def analyse(build_dir: Path, cache_dir: Path, env_path: Path | None,
            host_env: Mapping[str, str]) -> BuildPlan:
    app_env = env_dir.read_env_dir(env_path)
    env_dir.check_app_variables(app_env)
    app_dir, config = app_source.resolve_config(build_dir)
    check_configuration(app_dir, config)
    manifest = dependency_manifest.find_manifest(app_dir)
    mirror_url = host_env.get("PYTHON_RUNTIME_MIRROR", "").strip()
    if not mirror_url:
        raise errors.mirror_not_configured()
    mirror = Mirror(mirror_url, read_timeout(host_env))
    entries = mirror.load_manifest()
    choice = choose_version(app_dir, manifest, entries, cache_dir=cache_dir, host_env=host_env,
                            app_env=app_env)
    entry = next(e for e in entries
                 if e.version == choice.version and e.free_threaded == choice.free_threaded)
    hooks = system_registry.hooks_for(config.system_dependencies, choice.version)
    committed = committed_environments.find(build_dir)
    return BuildPlan(build_dir, app_dir, cache_dir, app_env, dict(host_env), config, mirror, entry,
                     choice, tuple(hooks), manifest, committed)


def choose_version(app_dir: Path, manifest: DependencyManifest, entries: list[RuntimeEntry], *,
                   cache_dir: Path, host_env: Mapping[str, str], app_env: Mapping[str, str]
                   ) -> python_version.VersionChoice:
    """The version policy's inputs gathered from the upload, the cache and the mirror."""
    version_files.check_version_file_names(app_dir)
    held_back = incompatible_packages.holding_back(declared_packages.declared_packages(app_dir, manifest))
    previous = None if no_cache_requested(host_env, app_env) else python_line.remembered_line(cache_dir)
    return version_policy.choose(version_policy.VersionInputs(
        version_file=python_version.read_small_file(app_dir, python_version.FILE_NAME),
        runtime_txt=python_version.read_small_file(app_dir, python_version.RUNTIME_TXT),
        default=setting("PYTHON_DEFAULT_VERSION", host_env, app_env),
        previous_line=previous,
        available=[python_version.listed_as(e.version, e.free_threaded) for e in entries],
        manifest=manifest,
        held_back=held_back,
    ))


def check_configuration(app_dir: Path, config: LeanEngineConfig) -> None:
    for warning in config.warnings:
        output.warning("leanengine.yaml has an unknown key", warning)
    if config.runtime is not None and config.runtime != "python":
        raise errors.runtime_not_python(config.runtime)
    from_procfile = config.run_source != leanengine_yaml.FILE_NAME
    if from_procfile:
        output.info(f"web: from the {config.run_source} (Heroku's convention; leanengine.yaml has no"
                    " `run:`, which would win). At run time $PORT is $LEANCLOUD_APP_PORT.")
    elif config.run and procfile.web(procfile.read_processes(app_dir)) is not None:
        output.info("The Procfile's web line is not used: `run:` in leanengine.yaml wins")
    if config.run and "LEANCLOUD_APP_PORT" not in config.run and not (from_procfile and "PORT" in config.run):
        output.warning(
            "The run command does not mention LEANCLOUD_APP_PORT",
            f"run: {config.run}\nThe app must listen on 0.0.0.0:$LEANCLOUD_APP_PORT (read it from"
            " the environment), or the platform's health check fails.")
    read = (*dependency_manifest.MANIFEST_FILES, *app_source.ENTRY_FILES)
    app_source.check_inputs_stay_inside(app_dir, (*read, *config.required_files))
    app_source.check_regular_files(app_dir, read)
    requirement_includes.check_stay_inside(app_dir, requirement_files.files_of(app_dir))
    app_source.check_entry_point(app_dir, config.run)
    app_source.check_required_files(app_dir, config.required_files)
