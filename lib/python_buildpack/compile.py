"""bin/compile: the build, as a straight pipeline.

Analyse everything first (environment, leanengine.yaml, entry point, Python
version), then act: runtime -> dependencies -> start command -> profile.
Each step prints its own heading and hands the next what it needs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from python_buildpack import (
    app_source,
    env_dir,
    errors,
    leanengine_yaml,
    output,
    pip_install,
    profile_d,
    python_version,
    runtime,
    start_command,
    tool_versions,
)
from python_buildpack.mirror import Mirror, RuntimeEntry

CACHE_SUBDIR = "python-buildpack"


@dataclass(frozen=True)
class BuildPlan:
    app_dir: Path
    cache_dir: Path
    app_env: dict[str, str]
    host_env: dict[str, str]
    config: leanengine_yaml.LeanEngineConfig
    mirror: Mirror
    runtime_entry: RuntimeEntry
    version: python_version.VersionChoice


def setting(name: str, host_env: Mapping[str, str], app_env: Mapping[str, str]) -> str | None:
    """A buildpack setting: the app's ENV_DIR wins over the platform's environment."""
    value = app_env.get(name) or host_env.get(name)
    return value.strip() if value and value.strip() else None


def analyse(app_dir: Path, cache_dir: Path, env_path: Path | None,
            host_env: Mapping[str, str]) -> BuildPlan:
    app_env = env_dir.read_env_dir(env_path)
    config = leanengine_yaml.load(app_dir)
    if config.runtime is not None and config.runtime != "python":
        raise errors.runtime_not_python(config.runtime)
    app_source.check_entry_point(app_dir, config.run)
    mirror_url = host_env.get("PYTHON_RUNTIME_MIRROR", "").strip()
    if not mirror_url:
        raise errors.mirror_not_configured()
    mirror = Mirror(mirror_url)
    entries = mirror.load_manifest()
    choice = python_version.choose_version(
        python_version.read_small_file(app_dir, python_version.FILE_NAME),
        python_version.read_small_file(app_dir, python_version.RUNTIME_TXT),
        setting("PYTHON_DEFAULT_VERSION", host_env, app_env),
        [entry.version for entry in entries],
    )
    entry = next(e for e in entries if e.version == choice.version)
    return BuildPlan(app_dir, cache_dir, app_env, dict(host_env), config, mirror, entry, choice)


def install_python(plan: BuildPlan) -> runtime.InstalledRuntime:
    entry = plan.runtime_entry
    output.heading(f"Installing Python {entry.version}")
    output.info(f"Chosen {plan.version.reason}")
    for notice in plan.version.notices:
        output.info(notice)
    for title, detail in plan.version.warnings:
        output.warning(title, detail)
    archive, cached = runtime.fetch_archive(plan.mirror, entry, plan.cache_dir / "runtimes")
    output.info("Using the cached runtime archive" if cached else f"Downloaded {Path(entry.url).name}")
    home = plan.app_dir / start_command.SLUG_DIR / "python"
    return runtime.install_runtime(archive, entry.version, home)


def install_dependencies(plan: BuildPlan, installed: runtime.InstalledRuntime) -> None:
    output.heading("Installing requirements with pip")
    tools = tool_versions.tools_for(installed.version)
    env = pip_install.pip_environment(plan.host_env, plan.app_env, installed,
                                      plan.cache_dir / "pip")
    pip_install.install_build_tools(installed, tools, env)
    added = pip_install.install_requirements(installed, plan.app_dir, tools, env)
    if added:
        output.info(f"Added gunicorn {tools.gunicorn} as the web server")


def write_start_files(plan: BuildPlan) -> str:
    output.heading("Writing the start command")
    start_command.write_server_files(plan.app_dir)
    profile_d.write_profile(plan.app_dir)
    command = start_command.web_command(plan.config.run)
    output.info(f"web: {command}")
    return command


def compile_app(app_dir: Path, cache_dir: Path, env_path: Path | None) -> None:
    started = time.monotonic()
    output.heading("LeanEngine Python buildpack")
    plan = analyse(app_dir, cache_dir / CACHE_SUBDIR, env_path, os.environ)
    installed = install_python(plan)
    install_dependencies(plan, installed)
    write_start_files(plan)
    output.heading(f"Build succeeded in {time.monotonic() - started:.1f}s")
