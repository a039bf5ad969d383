"""bin/compile: the build, as a straight pipeline.

Analyse everything first (build_plan), then act: runtime and dependencies
(system_step, then install_step, each cached as a layer) -> build commands -> checks -> start command.
Each step prints its own heading and hands the next what it needs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from python_buildpack import (
    hooks,
    install_step,
    output,
    pip_install,
    profile_d,
    requirement_checks,
    runtime,
    sdk_check,
    start_command,
    system_step,
)
from python_buildpack.build_plan import CACHE_SUBDIR, BuildPlan, analyse, setting
from python_buildpack.cache import BuildCache
from python_buildpack.leanengine_yaml import Command


def report_version_choice(plan: BuildPlan) -> None:
    output.heading(f"Python {plan.version.version}")
    output.info(f"Chosen {plan.version.reason}")
    for notice in plan.version.notices:
        output.info(notice)
    known_problems = requirement_checks.check_requirements(
        pip_install.requirement_lines(plan.app_dir), plan.version.version)
    for title, detail in [*plan.version.warnings, *known_problems]:
        output.warning(title, detail)


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
    system = system_step.provide_system_dependencies(plan, build_cache if use_cache else None)
    setup = install_step.prepare(plan, use_cache, system)
    installed = install_step.provide_dependencies(plan, build_cache if use_cache else None, setup)
    run_build_step(plan, setup.command_env)
    runtime.trim_for_run_time(installed.home)
    check_functions_mode(plan, installed, setup.command_env)
    write_start_files(plan)
    output.heading(f"Build succeeded in {time.monotonic() - started:.1f}s")
