"""bin/compile: the build, as a straight pipeline.

Analyse everything first (environment, leanengine.yaml, entry point, Python
version), then act: runtime -> install step -> build step -> start command.
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
    build_environment,
    env_dir,
    errors,
    hooks,
    leanengine_yaml,
    output,
    pip_install,
    profile_d,
    python_version,
    runtime,
    sdk_check,
    start_command,
    tool_versions,
)
from python_buildpack.leanengine_yaml import Command, LeanEngineConfig, UseDefault
from python_buildpack.mirror import Mirror, RuntimeEntry

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


def setting(name: str, host_env: Mapping[str, str], app_env: Mapping[str, str]) -> str | None:
    """A buildpack setting: the app's ENV_DIR wins over the platform's environment."""
    value = app_env.get(name) or host_env.get(name)
    return value.strip() if value and value.strip() else None


def analyse(build_dir: Path, cache_dir: Path, env_path: Path | None,
            host_env: Mapping[str, str]) -> BuildPlan:
    app_env = env_dir.read_env_dir(env_path)
    build_environment.check_app_variables(app_env)
    app_dir, config = app_source.resolve_build_root(build_dir, leanengine_yaml.load(build_dir))
    check_configuration(app_dir, config)
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
    return BuildPlan(build_dir, app_dir, cache_dir, app_env, dict(host_env), config, mirror, entry,
                     choice)


def check_configuration(app_dir: Path, config: LeanEngineConfig) -> None:
    for warning in config.warnings:
        output.warning("leanengine.yaml has an unknown key", warning)
    if config.runtime is not None and config.runtime != "python":
        raise errors.runtime_not_python(config.runtime)
    if config.run and "LEANCLOUD_APP_PORT" not in config.run:
        output.warning(
            "The run command does not mention LEANCLOUD_APP_PORT",
            f"run: {config.run}\nThe app must listen on 0.0.0.0:$LEANCLOUD_APP_PORT (read it from"
            " the environment), or the platform's health check fails.")
    if config.system_dependencies:
        output.warning(
            "systemDependencies are not installed by this version of the buildpack",
            f"Listed: {', '.join(config.system_dependencies)}. The build goes on without them.")
    app_source.check_entry_point(app_dir, config.run)
    app_source.check_required_files(app_dir, config.required_files)


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
    home = plan.build_dir / start_command.SLUG_DIR / "python"
    return runtime.install_runtime(archive, entry.version, home)


def run_install_step(plan: BuildPlan, installed: runtime.InstalledRuntime,
                     pip_env: Mapping[str, str], command_env: Mapping[str, str]) -> None:
    output.heading("Installing dependencies")
    tools = tool_versions.tools_for(installed.version)
    for step in plan.config.install:
        if isinstance(step, UseDefault):
            pip_install.install_build_tools(installed, tools, pip_env)
            # One resolver run for the app and the server saves a pip start-up.
            add_server = plan.config.run is None and not pip_install.names_server(plan.app_dir)
            extra = (tools.server_requirement(),) if add_server else ()
            pip_install.install_requirements(installed, plan.app_dir, pip_env, extra)
        elif isinstance(step, Command):
            hooks.run_command("install", step, plan.app_dir, command_env)
    if plan.config.run is None:
        ensure_web_server(plan, installed, tools, pip_env)


def ensure_web_server(plan: BuildPlan, installed: runtime.InstalledRuntime,
                      tools: tool_versions.ToolVersions, pip_env: Mapping[str, str]) -> None:
    """The default web command needs gunicorn: the app's own if it has one."""
    if pip_install.has_module(installed, "gunicorn", pip_env):
        own = pip_install.names_server(plan.app_dir)
        output.info("Using the app's own gunicorn as the web server" if own
                    else f"Added gunicorn {tools.gunicorn} as the web server")
        return
    pip_install.install_server(installed, tools, pip_env)
    output.info(f"Added gunicorn {tools.gunicorn} as the web server")


def run_build_step(plan: BuildPlan, command_env: Mapping[str, str]) -> None:
    build_commands = [step for step in plan.config.build if isinstance(step, Command)]
    if not build_commands:
        return
    output.heading("Running the build commands")
    for command in build_commands:
        hooks.run_command("build", command, plan.app_dir, command_env)


def check_functions_mode(plan: BuildPlan, installed: runtime.InstalledRuntime,
                         command_env: Mapping[str, str]) -> None:
    if plan.config.functions_mode != "strict":
        return
    output.heading("Checking the LeanCloud SDK (functionsMode: strict)")
    sdk_check.check_sdk_serves_ping(installed, plan.app_dir, plan.build_dir, command_env)
    output.info("GET /__engine/1/ping answers 200")


def write_start_files(plan: BuildPlan) -> str:
    output.heading("Writing the start command")
    start_command.write_server_files(plan.build_dir)
    profile_d.write_profile(plan.build_dir)
    build_root = start_command.build_root_of(plan.build_dir, plan.app_dir)
    command = start_command.web_command(plan.config, build_root)
    output.info(f"web: {command}")
    return command


def compile_app(build_dir: Path, cache_dir: Path, env_path: Path | None) -> None:
    started = time.monotonic()
    output.heading("LeanEngine Python buildpack")
    plan = analyse(build_dir, cache_dir / CACHE_SUBDIR, env_path, os.environ)
    installed = install_python(plan)
    pip_env = pip_install.pip_environment(plan.host_env, plan.app_env, installed,
                                          plan.cache_dir / "pip")
    command_env = build_environment.command_environment(
        pip_env, plan.app_env, plan.config.expose_environments_on_build, plan.app_dir)
    run_install_step(plan, installed, pip_env, command_env)
    run_build_step(plan, command_env)
    check_functions_mode(plan, installed, command_env)
    write_start_files(plan)
    output.heading(f"Build succeeded in {time.monotonic() - started:.1f}s")
