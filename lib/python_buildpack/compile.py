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
    commands,
    env_dir,
    errors,
    file_snapshot,
    hooks,
    install_inputs,
    leanengine_yaml,
    output,
    pip_install,
    profile_d,
    python_version,
    relocate,
    runtime,
    sdk_check,
    start_command,
    tool_versions,
)
from python_buildpack.cache import BuildCache
from python_buildpack.install_inputs import InstallInputs
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


def report_version_choice(plan: BuildPlan) -> None:
    output.heading(f"Python {plan.version.version}")
    output.info(f"Chosen {plan.version.reason}")
    for notice in plan.version.notices:
        output.info(notice)
    for title, detail in plan.version.warnings:
        output.warning(title, detail)


def slug_python_home(plan: BuildPlan) -> Path:
    return plan.build_dir / start_command.SLUG_DIR / "python"


def install_python(plan: BuildPlan, use_cache: bool) -> runtime.InstalledRuntime:
    entry = plan.runtime_entry
    output.heading(f"Installing Python {entry.version}")
    archive, cached = runtime.fetch_archive(plan.mirror, entry, plan.cache_dir / "runtimes",
                                            reuse=use_cache)
    output.info("Using the cached runtime archive" if cached else f"Downloaded {Path(entry.url).name}")
    return runtime.install_runtime(archive, entry.version, slug_python_home(plan))


def can_update_in_place(plan: BuildPlan) -> bool:
    """Only the default install of plain requirements can be updated on top of an
    older environment: pip then adds what changed and orphans are removed."""
    return plan.config.install == (UseDefault(),) and \
        pip_install.plain_requirements(plan.app_dir) is not None


def restore_dependencies(plan: BuildPlan, build_cache: BuildCache, inputs: InstallInputs
                         ) -> tuple[runtime.InstalledRuntime | None, bool]:
    """The cached install layer when the install step's inputs are unchanged
    (done), or one to update in place when only requirements.txt changed."""
    layer = build_cache.find_install_layer(inputs)
    if layer is not None:
        installed = restore_layer(plan, build_cache, layer)
        if installed is not None:
            output.info("Restored Python and dependencies from the cache: install inputs unchanged")
            return installed, False
    reasons = "; ".join(install_inputs.explain_changes(build_cache.last_install_inputs(), inputs))
    base = build_cache.find_update_base(inputs) if can_update_in_place(plan) else None
    if base is not None:
        installed = restore_layer(plan, build_cache, base)
        if installed is not None:
            output.info(f"Updating the cached dependencies in place: {reasons}")
            return installed, True
    output.info(f"Installing dependencies: {reasons}")
    return None, False


def restore_layer(plan: BuildPlan, build_cache: BuildCache, layer: Path) -> runtime.InstalledRuntime | None:
    home = slug_python_home(plan)
    try:
        built_at = build_cache.restore_install(layer, home, plan.app_dir)
        if built_at is None:
            raise ValueError("the layer has no metadata")
        if built_at != str(home):
            relocate.rewrite_prefix(home, built_at, str(home))
        installed = runtime.InstalledRuntime(plan.version.version, home)
        commands.capture([str(installed.python), "-c", "import sys"], env={"PATH": "/usr/bin:/bin"})
    except (OSError, ValueError, commands.CommandFailed):
        output.info("Discarding a corrupt cached install layer; installing afresh")
        build_cache.discard_install(layer)
        return None
    return installed


@dataclass(frozen=True)
class Installer:
    name: str  # pip or uv
    pip_env: Mapping[str, str]
    uv_env: Mapping[str, str]

    @property
    def env(self) -> Mapping[str, str]:
        return self.uv_env if self.name == "uv" else self.pip_env


def run_install_step(plan: BuildPlan, installed: runtime.InstalledRuntime, installer: Installer,
                     command_env: Mapping[str, str], in_place: bool = False) -> None:
    output.heading("Updating dependencies" if in_place else "Installing dependencies")
    tools = tool_versions.tools_for(installed.version)
    pip_env = installer.pip_env
    for step in plan.config.install:
        if isinstance(step, UseDefault):
            roots = run_default_install(plan, installed, tools, installer)
            if in_place:
                pip_install.remove_orphans(installed, roots, pip_env)
        elif isinstance(step, Command):
            hooks.run_command("install", step, plan.app_dir, command_env)
    if plan.config.run is None:
        ensure_web_server(plan, installed, tools, pip_env)


def run_default_install(plan: BuildPlan, installed: runtime.InstalledRuntime,
                        tools: tool_versions.ToolVersions, installer: Installer) -> list[str]:
    """pip (upgraded only when too old), then one resolver run for the app's
    requirements, the line's setuptools/wheel and the web server. Returns the
    requirements that were asked for (plain ones only)."""
    named = pip_install.requirement_names(plan.app_dir)
    companions = tools.companion_requirements(named)
    early = companions if tools.companions_go_first() else []
    pip_install.ensure_build_tools(installed, tools, early, installer.pip_env)
    extra = [] if early else list(companions)
    if plan.config.run is None and "gunicorn" not in named:
        extra.append(tools.server_requirement())
    if installer.name == "uv":
        output.info("Installing with uv (PYTHON_INSTALLER=uv)")
    pip_install.install_requirements(installed, plan.app_dir, installer.env, tuple(extra), installer.name)
    return (pip_install.plain_requirements(plan.app_dir) or []) + early + extra


def ensure_web_server(plan: BuildPlan, installed: runtime.InstalledRuntime,
                      tools: tool_versions.ToolVersions, pip_env: Mapping[str, str]) -> None:
    """The default web command needs gunicorn: the app's own if it has one."""
    if pip_install.has_module(installed, "gunicorn", pip_env):
        own = "gunicorn" in pip_install.requirement_names(plan.app_dir)
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


def exposed_to_install(plan: BuildPlan) -> dict[str, str]:
    if plan.config.expose_environments_on_build:
        return dict(plan.app_env)
    return {k: v for k, v in plan.app_env.items() if k in pip_install.APP_PIP_SETTINGS}


# uv installs into any CPython it supports upstream (3.8+); older lines use pip.
UV_MINIMUM_PYTHON = (3, 8)


def choose_installer(plan: BuildPlan) -> str:
    """PYTHON_INSTALLER: `pip` (default) or `uv`, where uv supports the line."""
    wanted = (setting("PYTHON_INSTALLER", plan.host_env, plan.app_env) or "pip").lower()
    if wanted not in ("pip", "uv"):
        raise errors.bad_installer(wanted)
    version = tuple(int(part) for part in plan.version.version.split(".")[:2])
    if wanted == "uv" and version < UV_MINIMUM_PYTHON:
        output.info(f"PYTHON_INSTALLER=uv: uv does not support Python {plan.version.version}; using pip")
        return "pip"
    return wanted


def cache_enabled(plan: BuildPlan) -> bool:
    value = setting("BUILD_NO_CACHE", plan.host_env, plan.app_env)
    if value and value.lower() not in ("0", "false", "no"):
        output.info("BUILD_NO_CACHE is set: every cached layer is ignored")
        return False
    return True


def compile_app(build_dir: Path, cache_dir: Path, env_path: Path | None) -> None:
    started = time.monotonic()
    output.heading("LeanEngine Python buildpack")
    plan = analyse(build_dir, cache_dir / CACHE_SUBDIR, env_path, os.environ)
    report_version_choice(plan)
    use_cache = cache_enabled(plan)
    build_cache = BuildCache(plan.cache_dir)
    if use_cache:
        build_cache.check_format()
    tools = tool_versions.tools_for(plan.version.version)
    installer_name = choose_installer(plan)
    inputs = install_inputs.gather(plan.app_dir, plan.config, python=plan.version.version,
                                   archive_sha256=plan.runtime_entry.sha256, tools=tools,
                                   exposed_env=exposed_to_install(plan), installer=installer_name)
    home = runtime.InstalledRuntime(plan.version.version, slug_python_home(plan))
    pip_env = pip_install.pip_environment(plan.host_env, plan.app_env, home,
                                          plan.cache_dir / "pip", use_cache)
    installer = Installer(installer_name, pip_env,
                          pip_install.uv_environment(pip_env, plan.cache_dir / "uv", use_cache))
    command_env = build_environment.command_environment(
        pip_env, plan.app_env, plan.config.expose_environments_on_build, plan.app_dir)
    installed, in_place = restore_dependencies(plan, build_cache, inputs) if use_cache else (None, False)
    if installed is None or in_place:
        installed = installed or install_python(plan, use_cache)
        before = file_snapshot.snapshot(plan.app_dir, skip=(start_command.SLUG_DIR,))
        run_install_step(plan, installed, installer, command_env, in_place)
        written = file_snapshot.changed_files(before, plan.app_dir, skip=(start_command.SLUG_DIR,))
        build_cache.save_install(inputs, installed.home, plan.app_dir, written)
    run_build_step(plan, command_env)
    runtime.trim_for_run_time(installed.home)
    check_functions_mode(plan, installed, command_env)
    write_start_files(plan)
    output.heading(f"Build succeeded in {time.monotonic() - started:.1f}s")
