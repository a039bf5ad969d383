"""The install step of bin/compile: the runtime and the app's dependencies,
restored from the cache layer, updated in place, or installed afresh."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.analysis import local_projects, requirement_files, vcs_requirements
from python_buildpack.analysis.build_plan import BuildPlan
from python_buildpack.analysis.leanengine_yaml import Command, UseDefault
from python_buildpack.cache.build_cache import BuildCache
from python_buildpack.install import (
    build_environment,
    editable_installs,
    git_access,
    hooks,
    install_inputs,
    installer_choice,
    locked_install,
    pip_install,
    tool_versions,
    vcs_refs,
)
from python_buildpack.install.install_inputs import InstallInputs
from python_buildpack.reporting import build_report, errors, output
from python_buildpack.runtime import python_runtime, relocate
from python_buildpack.support import commands, disk_space, file_snapshot, slug_layout
from python_buildpack.system.system_step import SystemDependencies


def slug_python_home(plan: BuildPlan) -> Path:
    return plan.build_dir / slug_layout.SLUG_DIR / "python"


def install_python(plan: BuildPlan, use_cache: bool) -> python_runtime.InstalledRuntime:
    entry = plan.runtime_entry
    output.heading(f"Installing Python {entry.version}")
    started = time.monotonic()
    archive, cached = python_runtime.fetch_archive(plan.mirror, entry, plan.cache_dir / "runtimes",
                                            reuse=use_cache)
    took = time.monotonic() - started
    output.info("Using the cached runtime archive" if cached else
                f"Downloaded {Path(entry.url).name} ({archive.stat().st_size / 1e6:.1f} MB in {took:.1f} s)")
    build_report.record_cache("runtime archive", "reused" if cached else "downloaded")
    return python_runtime.install_runtime(archive, entry.version, slug_python_home(plan))


def can_update_in_place(plan: BuildPlan) -> bool:
    """Only the default install of plain requirements (or of a lock, whose export
    is plain pins) can be updated on top of an older environment: the installer
    then adds what changed and orphans are removed."""
    if plan.config.install != (UseDefault(),):
        return False
    if plan.manifest.manager in locked_install.LOCK_MANAGERS:
        return True
    return plan.manifest.manager == "requirements" and \
        requirement_files.plain_requirements(plan.app_dir) is not None


@dataclass(frozen=True)
class Restored:
    """What the cache gave the install step."""
    installed: python_runtime.InstalledRuntime | None  # None: install afresh
    in_place: bool = False  # an older layer, to update
    project_kept: bool = False  # that layer holds the app's own project as it is now


def update_varying(plan: BuildPlan, projects: tuple[local_projects.LocalProject, ...]) -> tuple[str, ...]:
    """The inputs an in-place update may differ in. A locked package app's own
    project is installed again by every update, so its pyproject.toml (edited
    with the lock) may change too; other local projects may not."""
    if plan.manifest.is_package and all(project.path == plan.app_dir.resolve() for project in projects):
        return ("requirements", "local_projects")
    return ("requirements",)


def restore_dependencies(plan: BuildPlan, build_cache: BuildCache, setup: InstallSetup) -> Restored:
    """The cached install layer when the install step's inputs are unchanged
    (done), or one to update in place when only the requirements or the lock changed."""
    inputs = setup.inputs
    layer = build_cache.find_install_layer(inputs)
    if layer is not None:
        installed = restore_layer(plan, build_cache, layer)
        if installed is not None:
            output.info("Restored Python and dependencies from the cache: install inputs unchanged")
            build_report.record_cache("dependencies", "restored: install inputs unchanged")
            return Restored(installed)
    reasons = "; ".join(install_inputs.explain_changes(build_cache.last_install_inputs(), inputs))
    base = build_cache.find_update_base(inputs, varying=update_varying(plan, setup.projects)) \
        if can_update_in_place(plan) else None
    if base is not None:
        installed = restore_layer(plan, build_cache, base[0])
        if installed is not None:
            output.info(f"Updating the cached dependencies in place: {reasons}")
            build_report.record_cache("dependencies", f"updated in place: {reasons}")
            return Restored(installed, in_place=True,
                            project_kept=base[1].get("local_projects") == inputs.local_projects)
    output.info(f"Installing dependencies: {reasons}")
    build_report.record_cache("dependencies", f"installed: {reasons}")
    return Restored(None)


def restore_layer(plan: BuildPlan, build_cache: BuildCache, layer: Path
                  ) -> python_runtime.InstalledRuntime | None:
    home = slug_python_home(plan)
    try:
        built_at = build_cache.restore_install(layer, home, plan.app_dir)
        if built_at is None:
            raise ValueError("the layer has no metadata")
        if built_at != str(home):
            relocate.rewrite_prefix(home, built_at, str(home))
            if not follow_the_move(home, str(Path(built_at).parents[1]), plan.build_dir):
                build_cache.discard_install(layer)
                return None
        installed = python_runtime.InstalledRuntime(plan.version.version, home)
        commands.capture([str(installed.python), "-c", "import sys"], env={"PATH": "/usr/bin:/bin"})
    except (OSError, ValueError, commands.CommandFailed) as failure:
        if disk_space.is_disk_full(failure):  # the slug's disk, not the layer, is at fault
            raise errors.disk_full(str(home.parent)) from failure
        output.info("Discarding a corrupt cached install layer; installing afresh")
        build_cache.discard_install(layer)
        return None
    return installed


def follow_the_move(home: Path, built_in: str, build_dir: Path) -> bool:
    """A layer built in another directory works here only if nothing imported at
    start-up names that directory (editable installs were made relative)."""
    for site_packages in editable_installs.site_packages_of(home):
        stale = editable_installs.references_to(site_packages, built_in)
        if stale:
            output.info(f"Discarding the cached install layer: it was built in {built_in}, and"
                        f" {', '.join(stale)} in its site-packages still point there; installing afresh")
            return False
        editable_installs.repoint_direct_urls(site_packages, built_in, str(build_dir))
    return True


def make_editables_movable(plan: BuildPlan, installed: python_runtime.InstalledRuntime) -> None:
    """Editable installs point into the build directory: make them relative to
    the slug, and warn about any pointer left that a move would break."""
    roots = sorted({str(plan.build_dir), str(plan.build_dir.resolve())}, key=len, reverse=True)
    for site_packages in editable_installs.site_packages_of(installed.home):
        changed = [name for root in roots
                   for name in editable_installs.make_relative(site_packages, Path(root))]
        if changed:
            output.info("Editable installs kept editable, their paths made relative so they work"
                        f" after the slug moves: {', '.join(sorted(set(changed)))}")
        left = sorted({name for root in roots
                       for name in editable_installs.references_to(site_packages, root)})
        if left:
            output.warning("Installed files name the build directory",
                           f"{', '.join(left)} in site-packages hold the absolute path {roots[0]}:"
                           " the app may fail once the platform moves the slug.")


def watched_directories(plan: BuildPlan, projects: tuple[local_projects.LocalProject, ...]
                        ) -> list[Path]:
    """Where the install step may write into the app: anywhere for the app's own
    commands; else only the editable local projects (a setup.py develop keeps
    the project's metadata there, in `*.egg-info`). Walking a big tree twice
    costs time, so the default install of registry packages watches nothing."""
    if any(isinstance(step, Command) for step in plan.config.install):
        return [plan.app_dir]
    return [project.path for project in projects if project.editable and project.path.is_dir()]


@dataclass(frozen=True)
class Installer:
    name: str  # pip or uv
    why: str  # what chose it, for the log
    pip_env: Mapping[str, str]
    uv_env: Mapping[str, str]
    hook_requirements: tuple[str, ...] = ()  # PyPI packages systemDependencies add

    @property
    def env(self) -> Mapping[str, str]:
        return self.uv_env if self.name == "uv" else self.pip_env


def run_install_step(plan: BuildPlan, installed: python_runtime.InstalledRuntime, installer: Installer,
                     command_env: Mapping[str, str], restored: Restored | None = None) -> None:
    in_place = restored is not None and restored.in_place
    keep_project = in_place and restored is not None and restored.project_kept
    output.heading("Updating dependencies" if in_place else "Installing dependencies")
    tools = tool_versions.tools_for(installed.version)
    pip_env = installer.pip_env
    if installer.hook_requirements and UseDefault() not in plan.config.install:
        output.warning("systemDependencies ask for PyPI packages the install commands must install",
                       f"{', '.join(installer.hook_requirements)}: the default install adds them; with"
                       " your own install commands, put them in requirements.txt.")
    roots: list[str] = []
    for step in plan.config.install:
        if isinstance(step, UseDefault):
            roots = run_default_install(plan, installed, tools, installer, keep_project)
            if in_place:
                pip_install.remove_orphans(installed, [*roots, *tool_versions.ASGI_SERVER_PROJECTS], pip_env)
        elif isinstance(step, Command):
            hooks.run_command("install", step, plan.app_dir, command_env)
    if plan.config.run is None:
        ensure_web_server(plan, installed, tools, pip_env, set(roots))


def run_default_install(plan: BuildPlan, installed: python_runtime.InstalledRuntime,
                        tools: tool_versions.ToolVersions, installer: Installer,
                        keep_project: bool = False) -> list[str]:
    """pip (upgraded only when too old), then one resolver run for the app's
    requirements, the line's setuptools/wheel and the web server. Returns the
    requirements that were asked for (plain ones only)."""
    if plan.manifest.manager in (*locked_install.LOCK_MANAGERS, "pyproject"):
        return run_project_install(plan, installed, tools, installer, keep_project)
    named = requirement_files.requirement_names(plan.app_dir)
    companions = tools.companion_requirements(named)
    from_hooks = [requirement for requirement in installer.hook_requirements
                  if requirement_files.requirement_name(requirement) not in named]
    early = companions if tools.companions_go_first() else []
    pip_install.ensure_build_tools(installed, tools, early, installer.pip_env)
    extra = ([] if early else list(companions)) + from_hooks
    for requirement in from_hooks:
        output.info(f"Adding {requirement} for systemDependencies (its wheels carry the native library)")
    if plan.config.run is None and "gunicorn" not in named:
        extra.append(tools.server_requirement())
    if installer.name == "uv":
        output.info(f"Installing with uv ({installer.why})")
    pip_install.install_requirements(installed, plan.app_dir, installer.env, tuple(extra), installer.name)
    return (requirement_files.plain_requirements(plan.app_dir) or []) + early + extra


def run_project_install(plan: BuildPlan, installed: python_runtime.InstalledRuntime,
                        tools: tool_versions.ToolVersions, installer: Installer,
                        keep_project: bool = False) -> list[str]:
    """A lock, installed exactly, or a pyproject.toml without one; then what the
    build adds (each unless the app's own dependencies have it). keep_project:
    the environment being updated holds the project as it is now."""
    pip_install.ensure_build_tools(installed, tools, [], installer.pip_env)
    added = [*tools.companion_requirements(set()), *installer.hook_requirements]
    if plan.config.run is None:
        added.append(tools.server_requirement())
    output.info(f"Dependencies from {plan.manifest.describe()}")
    if plan.manifest.manager == "pyproject":
        named = locked_install.project_dependency_names(plan.app_dir)
        added = [item for item in added if requirement_files.requirement_name(item) not in named]
        locked_install.install_pyproject(plan.app_dir, installed, installer.name, dict(installer.env), added)
        return [*named, *added]
    return locked_install.install_lock(
        plan.manifest, plan.app_dir, installed, added=added, keep_project=keep_project,
        installer_env=(installer.name, dict(installer.pip_env), dict(installer.uv_env)))


def ensure_web_server(plan: BuildPlan, installed: python_runtime.InstalledRuntime,
                      tools: tool_versions.ToolVersions, pip_env: Mapping[str, str],
                      installed_on_purpose: set[str]) -> None:
    """The default web command needs gunicorn: the app's own if it has one."""
    if pip_install.has_module(installed, "gunicorn", pip_env):
        # The roots name the app's own packages bare, and what the build added pinned.
        own = "gunicorn" in installed_on_purpose or "gunicorn" in requirement_files.requirement_names(
            plan.app_dir)
        output.info("Using the app's own gunicorn as the web server" if own
                    else f"Added gunicorn {tools.gunicorn} as the web server")
        return
    pip_install.install_server(installed, tools, pip_env)
    output.info(f"Added gunicorn {tools.gunicorn} as the web server")


def exposed_to_install(plan: BuildPlan, referenced: Mapping[str, str]) -> dict[str, str]:
    if plan.config.expose_environments_on_build:
        return dict(plan.app_env)
    return {k: v for k, v in plan.app_env.items() if k in pip_install.APP_PIP_SETTINGS or k in referenced}


@dataclass(frozen=True)
class GitSetup:
    """What the install step gives git, and the commits of the moving refs."""
    env: dict[str, str]
    commits: dict[str, str]


def prepare_git(plan: BuildPlan, lines: list[str], variables: Mapping[str, str],
                pip_env: Mapping[str, str]) -> GitSetup:
    requirements = vcs_requirements.find_vcs_requirements(lines)
    env = git_access.git_environment(plan.app_env, requirements)
    if requirements:
        given = [name for name in (git_access.CREDENTIALS_SETTING, git_access.KEY_SETTING,
                                   git_access.KNOWN_HOSTS_SETTING) if plan.app_env.get(name, "").strip()]
        output.info(f"git requirements: {len(requirements)}; git gets "
                    + (", ".join(given) if given else "no credentials (none are set)"))
    commits = vcs_refs.resolve_refs(requirements, variables, {**pip_env, **env})
    return GitSetup(env, commits)


@dataclass(frozen=True)
class InstallSetup:
    inputs: InstallInputs  # the cache key
    installer: Installer
    command_env: Mapping[str, str]  # for the app's build commands
    projects: tuple[local_projects.LocalProject, ...]  # local projects the requirements install
    install_command_env: Mapping[str, str]  # for the app's install commands: with git's credentials


def build_environments(plan: BuildPlan, use_cache: bool, system: SystemDependencies
                       ) -> tuple[dict[str, str], dict[str, str]]:
    """pip's isolated environment, and the one of the app's own commands and hooks."""
    home = python_runtime.InstalledRuntime(plan.version.version, slug_python_home(plan))
    pip_env = system.apply(pip_install.pip_environment(plan.host_env, plan.app_env, home,
                                                       plan.cache_dir / "pip", use_cache))
    command_env = build_environment.command_environment(
        pip_env, plan.app_env, plan.config.expose_environments_on_build, plan.app_dir)
    return pip_env, command_env


def prepare(plan: BuildPlan, use_cache: bool, system: SystemDependencies) -> InstallSetup:
    tools = tool_versions.tools_for(plan.version.version)
    choice = installer_choice.choose_installer(plan)
    projects = tuple(local_projects.find_local_projects(
        plan.app_dir, requirement_files.files_of(plan.app_dir)))
    if plan.manifest.is_package:  # the app itself, installed editable after its dependencies
        projects = (*projects, local_projects.LocalProject(plan.app_dir.resolve(), editable=True))
    pip_env, command_env = build_environments(plan, use_cache, system)
    lines = list(requirement_files.content_lines(plan.app_dir))
    variables = vcs_requirements.installer_variables(lines, plan.app_env)
    git = prepare_git(plan, lines, variables, pip_env)
    inputs = install_inputs.gather(plan.app_dir, plan.config, python=plan.version.version,
                                   archive_sha256=plan.runtime_entry.sha256, tools=tools,
                                   exposed_env=exposed_to_install(plan, variables), installer=choice.name,
                                   projects=projects, manifest=plan.manifest, vcs_commits=git.commits)
    pip_env.update({**variables, **git.env})
    installer = Installer(choice.name, choice.why, pip_env,
                          pip_install.uv_environment(pip_env, plan.cache_dir / "uv", use_cache, plan.app_env),
                          system.requirements)
    return InstallSetup(inputs, installer, command_env, projects, {**command_env, **git.env})


def provide_dependencies(plan: BuildPlan, build_cache: BuildCache | None, setup: InstallSetup
                         ) -> python_runtime.InstalledRuntime:
    """The install step through its cache layer (None: BUILD_NO_CACHE)."""
    inputs, installer = setup.inputs, setup.installer
    restored = restore_dependencies(plan, build_cache, setup) if build_cache else Restored(None)
    installed = restored.installed
    if installed is not None and not restored.in_place:
        return installed
    installed = installed or install_python(plan, use_cache=build_cache is not None)
    skip = (slug_layout.SLUG_DIR,)
    watched = watched_directories(plan, setup.projects)
    before = [file_snapshot.snapshot(directory, skip) for directory in watched]
    run_install_step(plan, installed, installer, setup.install_command_env, restored)
    make_editables_movable(plan, installed)
    written = [path for directory, state in zip(watched, before)
               for path in file_snapshot.changed_files(state, directory, skip)]
    if build_cache is not None:
        build_cache.save_install(inputs, installed.home, plan.app_dir, written)
    return installed
