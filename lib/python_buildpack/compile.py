"""bin/compile: the build, as a straight pipeline.

Analyse everything first (build_plan), then act: system packages and the
runtime with the dependencies (system_step, install_step, each cached as a
layer) -> build commands -> checks -> start command -> smoke check.
Each step prints its own heading and hands the next what it needs.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from python_buildpack.analysis import app_source, heroku_leftovers, requirement_checks, requirement_files
from python_buildpack.analysis.build_plan import CACHE_SUBDIR, BuildPlan, analyse, no_cache_requested, setting
from python_buildpack.analysis.leanengine_yaml import Command
from python_buildpack.cache import python_line
from python_buildpack.cache.build_cache import BuildCache
from python_buildpack.image import os_needs
from python_buildpack.install import app_servers, compile_hooks, git_access, hooks, install_step, nltk_data
from python_buildpack.launch import app_kind, collectstatic, profile_d, sdk_check, smoke_check, start_command
from python_buildpack.launch.app_kind import AppKind
from python_buildpack.reporting import build_report, errors, output
from python_buildpack.runtime import python_runtime
from python_buildpack.support import commands, file_snapshot, partial_files, private_files
from python_buildpack.system import system_step


def report_version_choice(plan: BuildPlan) -> None:
    build = " (free-threaded)" if plan.version.free_threaded else ""
    output.heading(f"Python {plan.version.version}{build}")
    output.info(f"Chosen {plan.version.reason}")
    for notice in plan.version.notices:
        output.info(notice)
    known_problems = requirement_checks.check_requirements(requirement_files.requirement_lines(plan.app_dir))
    for title, detail in [*plan.version.warnings, *known_problems]:
        output.warning(title, detail)


def report_committed_environments(plan: BuildPlan) -> None:
    """Warn about virtual environments in the upload (left in the slug, never
    used) and replace an uploaded .lean/ (the buildpack's own directory)."""
    for found in plan.committed:
        size = f"{found.size_bytes / 1e6:.1f} MB"
        if found.kind == "slug directory":
            output.warning(f"The upload has a {found.path}/ directory ({size}); it is replaced",
                           f"{found.path}/ is where the build puts the Python runtime, the packages and"
                           " the start files, so what the upload held there is removed first. Leave it"
                           " out of the upload (.gitignore, and .leanignore for `lean deploy`).")
            shutil.rmtree(plan.build_dir / found.path)
            continue
        output.warning(f"The upload has a virtual environment: {found.path}/ ({size} in the slug)",
                       f"It is not used: the build installs the app's dependencies into"
                       f" .lean/python, and {found.path}/ is not on the path (it was made on another"
                       " machine, and its interpreter links point there). It only makes the slug"
                       f" larger: leave {found.path}/ out of the upload (.gitignore, and .leanignore"
                       " for `lean deploy`).")


def run_build_step(plan: BuildPlan, command_env: Mapping[str, str], build_cache: BuildCache) -> None:
    build_commands = [step for step in plan.config.build if isinstance(step, Command)]
    if not build_commands:
        return
    output.heading("Running the build commands")
    build_cache.unshare_linked("the build commands run")
    for command in build_commands:
        hooks.run_command("build", command, plan.app_dir, command_env)


def check_functions_mode(plan: BuildPlan, installed: python_runtime.InstalledRuntime,
                         command_env: Mapping[str, str], app: AppKind | None) -> None:
    if plan.config.functions_mode != "strict":
        return
    output.heading("Checking the LeanCloud SDK (functionsMode: strict)")
    sdk_check.check_sdk_serves_ping(installed, plan.app_dir, plan.build_dir, command_env,
                                    kind=app.kind if app else "wsgi", module=app.module if app else "wsgi")
    output.info("GET /__engine/1/ping answers 200")


def write_start_files(plan: BuildPlan, app: AppKind | None) -> str:
    start_command.write_server_files(plan.build_dir, app)
    profile_d.write_profile(plan.build_dir)
    build_root = start_command.build_root_of(plan.build_dir, plan.app_dir)
    command = start_command.web_command(plan.config, build_root, app)
    output.info(f"web: {command}")
    return command


_APP_KIND = "app-kind"  # what the cache remembers it under


def find_app_kind(plan: BuildPlan, installed: python_runtime.InstalledRuntime,
                  setup: install_step.InstallSetup, build_cache: BuildCache | None) -> AppKind | None:
    """What `application` is, with the server it needs installed. None with `run:`,
    or when the app cannot be imported (served as WSGI: the smoke check shows why).
    Remembered with the app's files and dependencies: an unchanged rebuild
    neither imports the app nor installs anything again."""
    entry = app_source.entry_file(plan.app_dir)
    if plan.config.run is not None or entry is None:
        return None
    key = smoke_check.input_digest(plan.build_dir, setup.inputs.digest(), _APP_KIND, plan.app_env)
    known = app_kind.from_dict(build_cache.recall(_APP_KIND, key)) if build_cache and key else None
    if known is not None:
        output.info(f"{describe_app(known)}; known from an earlier build of the same app")
        return known
    found = app_kind.inspect_application(installed, plan.app_dir, entry,
                                         {**setup.command_env, **plan.app_env})
    if isinstance(found, app_kind.ImportFailed):
        output.info(f"{entry} could not be imported at build time ({found.reason}): serving it as"
                    " WSGI; the smoke check shows the app's output")
        return None
    output.info(describe_app(found))
    if found.kind == "asgi":
        server = app_servers.provide_asgi_server(installed, plan.app_dir, setup.installer.pip_env)
        found = dataclasses.replace(found, worker_class=server.worker_class)
        if server.added and build_cache is not None and not build_cache.refresh_install(
                setup.inputs, installed.home):
            key = None  # the cached layer lacks the server: the next build adds it again
    if build_cache is not None and key is not None:
        build_cache.remember(_APP_KIND, key, found.as_dict())
    return found


def describe_app(app: AppKind) -> str:
    return (f"{app.entry}: `application` is {app.label} ({app.found}), served by"
            f" {app_kind.SERVERS[app.kind]}")


def check_the_app_starts(plan: BuildPlan, command: str, install_key: str,
                         build_cache: BuildCache | None) -> str:
    """The smoke check (SMOKE_CHECK=0 skips it; =always runs it even when the same
    app, dependencies and variables passed it before). Returns what happened."""
    wanted = (setting("SMOKE_CHECK", plan.host_env, plan.app_env) or "1").lower()
    if wanted in ("0", "false", "no", "off"):
        output.info("Smoke check skipped (SMOKE_CHECK=0)")
        return "skipped (SMOKE_CHECK=0)"
    output.heading("Smoke check: starting the web command once")
    key = smoke_check.input_digest(plan.build_dir, install_key, command, plan.app_env)
    if build_cache is not None and key is not None and wanted != "always" and \
            build_cache.smoke_check_passed(key):
        output.info("Skipped: this app, with the same dependencies and variables, passed it in an"
                    " earlier build (SMOKE_CHECK=always runs it anyway)")
        return "passed earlier (same app)"
    log = (output.log_directory() or plan.cache_dir) / "smoke-check.log"
    result = smoke_check.run(plan.build_dir, command, plan.app_env, plan.config.startup_timeout, log)
    output.info(f"GET {result.path} answered {result.status} after {result.seconds:.1f} s;"
                f" {describe_stop(result.stopped)}")
    warn_about_stop(result.stopped)
    if result.loopback_only:
        output.warning("The app listens on 127.0.0.1 only",
                       "The platform's router connects from outside the container, so it cannot reach"
                       " the app.\nListen on 0.0.0.0:$LEANCLOUD_APP_PORT instead.")
    if build_cache is not None and key is not None:
        build_cache.remember_smoke_check(key)
    where = " (127.0.0.1 only)" if result.loopback_only else ""
    stop = _STOP_NOTES.get(result.stopped.how, "")
    return f"passed: GET {result.path} {result.status}{where}{stop}"


_STOP_NOTES = {commands.IGNORES_SIGTERM: "; ignores SIGTERM",
               commands.OUTLIVED_GRACE: "; outlives SIGTERM"}


def describe_stop(stopped: commands.Stopped) -> str:
    # An app that closed its port on SIGTERM and was then cut short (its shutdown
    # had nothing of ours left to finish) stops on SIGTERM as much as one that exited.
    if stopped.how in (commands.EXITED, commands.STOPPED_SERVING):
        return f"stopped with SIGTERM in {stopped.seconds:.2f} s"
    return f"still running after SIGTERM; killed after {stopped.seconds:.1f} s"


def warn_about_stop(stopped: commands.Stopped) -> None:
    """The verdict stays the same; a deploy of this app would not."""
    cost = ("The platform stops an app with SIGTERM to its process group and kills it with"
            " SIGKILL 10 s later: every deploy and restart of this app would wait those 10 s,"
            " and requests in flight would be cut off.")
    if stopped.how == commands.IGNORES_SIGTERM:
        output.warning("The app ignores SIGTERM",
                       f"{cost}\nThe process serving the port has SIGTERM ignored (`trap '' TERM`,"
                       " signal.SIG_IGN, or inherited from its parent); let it stop on SIGTERM.")
    elif stopped.how == commands.OUTLIVED_GRACE:
        output.warning("The app keeps running after SIGTERM",
                       f"{cost}\nThe web command was still running {stopped.seconds:.0f} s after"
                       " SIGTERM; its handler should make it exit.")


def cache_enabled(plan: BuildPlan) -> bool:
    if no_cache_requested(plan.host_env, plan.app_env):
        output.info("BUILD_NO_CACHE is set: every cached layer, and the previous build's Python line,"
                    " is ignored")
        build_report.record_cache("all", "ignored (BUILD_NO_CACHE)")
        return False
    return True


_LOG_IN_USE_SECONDS = 3600


def configure_build_log(plan: BuildPlan) -> None:
    """Quiet by default; PRINT_BUILD_LOGS (the platform's printBuildLogs) streams
    every command's output. Step logs of the last builds stay in the cache."""
    value = setting("PRINT_BUILD_LOGS", plan.host_env, plan.app_env) or ""
    logs = plan.cache_dir / "logs"
    for old in sorted(logs.glob("*"))[:-4] if logs.is_dir() else []:
        # Builds running beside this one on the same cache write their logs
        # here too: only logs untouched for an hour are old enough to go.
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > _LOG_IN_USE_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
    this_build = logs / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}"
    output.configure_build_log(this_build, live=value.lower() in ("1", "true", "yes"))


def compile_app(build_dir: Path, cache_dir: Path, env_path: Path | None) -> None:
    started = time.monotonic()
    report = build_report.start()
    output.heading("LeanEngine Python buildpack", timed=False)
    try:
        build(build_dir, cache_dir, env_path, report)
    except errors.BuildpackError as err:
        report.outcome, report.failure_code = "failed", err.code
        raise
    except BaseException:
        report.outcome, report.failure_code = "failed", "internal-error"
        raise
    finally:
        private_files.remove_all()  # the app's netrc: only while the build runs
        output.end_step(failed=report.outcome != "succeeded")
        report.duration_seconds = round(time.monotonic() - started, 2)
        report.steps = [{"name": name, "seconds": round(seconds, 2)}
                        for name, seconds in output.step_durations()]
        with contextlib.suppress(OSError):
            write_report(build_dir, report)
    print_summary(report)


def write_report(build_dir: Path, report: build_report.BuildReport) -> None:
    """`.lean/build-report.json`, written on failure too (bin/report, bin/release read it)."""
    path = build_dir / build_report.REPORT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_files.write_json_atomically(path, report.as_dict())


def build(build_dir: Path, cache_dir: Path, env_path: Path | None, report: build_report.BuildReport
          ) -> None:
    plan = analyse(build_dir, cache_dir / CACHE_SUBDIR, env_path, os.environ)
    configure_build_log(plan)
    report.python_version = plan.version.version
    report.python_version_reason = plan.version.reason
    report.system_dependencies = [hook.name for hook in plan.system_hooks]
    report_version_choice(plan)
    for notice in heroku_leftovers.notices(plan.app_dir, plan.app_env, plan.manifest):
        output.info(notice)
    report_committed_environments(plan)
    use_cache = cache_enabled(plan)
    build_cache = BuildCache(plan.cache_dir)
    if use_cache:
        build_cache.check_format()
    system = system_step.provide_system_dependencies(
        list(plan.system_hooks), plan.build_dir, plan.cache_dir, plan.host_env,
        build_cache if use_cache else None)
    compile_hooks.run_hook(compile_hooks.PRE_COMPILE, plan.app_dir,
                           install_step.build_environments(plan, use_cache, system)[1])
    setup = install_step.prepare(plan, use_cache, system)
    report.installer = setup.installer.name
    report.install_key = setup.inputs.digest()
    report.dependencies = plan.manifest.describe()
    installed = install_step.provide_dependencies(plan, build_cache if use_cache else None, setup)
    git_access.remove_files()  # git's credentials: for the install step only
    nltk_data.provide(plan.app_dir, plan.build_dir, installed, setup.command_env,
                      cache_dir=plan.cache_dir if use_cache else None,
                      url=setting(nltk_data.URL_SETTING, plan.host_env, plan.app_env))
    run_build_step(plan, setup.command_env, build_cache)
    if collectstatic.wanted(plan.app_dir, installed, plan.config,
                            setting(collectstatic.SWITCH, {}, plan.app_env)):
        collectstatic.collect(plan.app_dir, installed, setup.command_env)
    if compile_hooks.has_hook(compile_hooks.POST_COMPILE, plan.app_dir):
        build_cache.unshare_linked(f"{compile_hooks.POST_COMPILE} runs")
    compile_hooks.run_hook(compile_hooks.POST_COMPILE, plan.app_dir, setup.command_env)
    output.heading("Writing the start command")
    app = find_app_kind(plan, installed, setup, build_cache if use_cache else None)
    report.app = app.as_dict() if app else None
    report.web_command = write_start_files(plan, app)
    python_runtime.trim_for_run_time(installed.home)
    check_functions_mode(plan, installed, setup.command_env, app)
    # What bin/image's base check needs from the OS: reading the slug's ELF files
    # takes about 0.2 s (unless remembered), done while the smoke check mostly
    # waits for the app to boot (the check adds only bytecode, which it does not read).
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as background:
        needs = background.submit(os_needs.record, plan.build_dir, build_cache if use_cache else None)
        report.smoke_check = check_the_app_starts(plan, report.web_command, setup.inputs.digest(),
                                                  build_cache if use_cache else None)
        needs.result()
    report.slug_size_bytes = file_snapshot.directory_size(build_dir)
    python_line.remember_line(plan.cache_dir, plan.version.version)
    report.outcome = "succeeded"


def print_summary(report: build_report.BuildReport) -> None:
    output.heading(f"Build succeeded in {report.duration_seconds:.1f} s", timed=False)
    rows = [
        ("Python", f"{report.python_version}, chosen {report.python_version_reason}"),
        ("Installer", report.installer or "none"),
        ("Dependencies", report.dependencies or "none"),
        *((f"Cache: {part}", decision) for part, decision in report.cache.items()),
        ("Slug", f"{(report.slug_size_bytes or 0) / 1e6:.1f} MB"),
        ("Web", report.web_command or ""),
    ]
    if report.system_dependencies:
        rows.insert(2, ("System", ", ".join(report.system_dependencies)))
    if report.smoke_check:
        rows.insert(-1, ("Smoke check", report.smoke_check))
    width = max(len(name) for name, _value in rows)
    for name, value in rows:
        output.info(f"{name.ljust(width)}  {value}")
