"""Installing the app's requirements with the app's own pip, isolated from the host.

Packages go into the relocated runtime's own site-packages (a virtual
environment would not survive the slug being moved). pip never reads the
build host's configuration (`PIP_CONFIG_FILE=/dev/null`, no host `PIP_*`);
only the app's index settings from its ENV_DIR are honoured (index_credentials).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from python_buildpack.install import index_credentials, index_probe, pip_failures
from python_buildpack.install.manager_tools import SYSTEM_CA_BUNDLE, uv_binary
from python_buildpack.install.tool_versions import ToolVersions
from python_buildpack.reporting import errors, output
from python_buildpack.runtime import relocate
from python_buildpack.runtime.python_runtime import InstalledRuntime
from python_buildpack.support import commands, disk_space
from python_buildpack.system import system_registry

APP_PIP_SETTINGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST")
# Host variables that describe the network, not pip: still needed to reach the index.
_HOST_PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "HTTP_PROXY", "HTTPS_PROXY",
                     "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
_PIP_FLAGS = ("--no-input", "--disable-pip-version-check")
_INSTALL_FLAGS = ("--progress-bar", "off", "--no-warn-script-location")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def pip_environment(
    host_env: Mapping[str, str], app_env: Mapping[str, str], runtime: InstalledRuntime,
    pip_cache: Path, use_cache: bool = True,
) -> dict[str, str]:
    env = {name: host_env[name] for name in _HOST_PASSTHROUGH if name in host_env}
    env["PATH"] = f"{runtime.home / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env.update({
        "PIP_CONFIG_FILE": os.devnull,
        "XDG_CONFIG_DIRS": os.devnull,
        "PIP_CACHE_DIR": str(pip_cache),
        "PYTHONNOUSERSITE": "1",
        # Builds run as root in a throw-away container; the warning is noise.
        "PIP_ROOT_USER_ACTION": "ignore",
        "PYTHONUNBUFFERED": "1",
        # A git requirement needing a password must fail, not wait for one on a terminal.
        "GIT_TERMINAL_PROMPT": "0",
        "LANG": env.get("LANG") or "C.UTF-8",
    })
    if SYSTEM_CA_BUNDLE.is_file():
        # A copied pip's certifi bundle may lack the CA of a TLS proxy; the
        # system bundle is what the build machine trusts.
        env["PIP_CERT"] = env["SSL_CERT_FILE"] = str(SYSTEM_CA_BUNDLE)
    if not use_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
    env.update({name: app_env[name] for name in APP_PIP_SETTINGS if name in app_env})
    index_credentials.register_url_credentials(app_env, APP_PIP_SETTINGS)
    env["NETRC"] = index_credentials.netrc_path(app_env)
    return env







def installed_pip_version(runtime: InstalledRuntime) -> str | None:
    """pip's version from its dist-info directory name (no interpreter start-up)."""
    for dist_info in runtime.home.glob("lib/python*/site-packages/pip-*.dist-info"):
        return dist_info.name[len("pip-"):-len(".dist-info")]
    return None


def ensure_build_tools(runtime: InstalledRuntime, tools: ToolVersions, early: list[str],
                       env: Mapping[str, str]) -> None:
    """Upgrade pip when it is older than the line's pin, together with the
    tools that must be there before the requirements (`early`)."""
    current = installed_pip_version(runtime)
    wanted = ([f"pip=={tools.pip}"] if tools.pip_is_too_old(current) else []) + early
    if not wanted:
        output.info(f"Using pip {current}")
        return
    output.info(f"Build tools: {', '.join(wanted)} (pip {current or 'missing'} in the runtime)")
    _pip(runtime, ["install", *wanted], env, "install the build tools")


def install_requirements(
    runtime: InstalledRuntime, app_dir: Path, env: Mapping[str, str], extra: tuple[str, ...] = (),
    installer: str = "pip",
) -> None:
    """Install requirements.txt (and `extra` requirements in the same resolver run)."""
    arguments = list(extra)
    if (app_dir / "requirements.txt").is_file():
        arguments = ["--requirement", "requirements.txt", *arguments]
    if not arguments:
        return
    if installer == "uv":
        _uv(runtime, arguments, env, app_dir)  # env: from uv_environment
    else:
        _pip(runtime, ["install", *arguments], env, "install the app's requirements", cwd=app_dir)


# uv reads pip's settings under its own names; only the app's index settings pass.
_UV_NAMES = {"PIP_INDEX_URL": "UV_INDEX_URL", "PIP_EXTRA_INDEX_URL": "UV_EXTRA_INDEX_URL",
             "PIP_TRUSTED_HOST": "UV_INSECURE_HOST"}


def uv_environment(pip_env: Mapping[str, str], uv_cache: Path, use_cache: bool,
                   app_env: Mapping[str, str]) -> dict[str, str]:
    """pip's isolated environment translated for uv (no host uv.toml, no downloads of
    Pythons), with the app's own uv index settings."""
    env = {k: v for k, v in pip_env.items() if not k.startswith("PIP_")}
    env.update({_UV_NAMES[name]: value for name, value in pip_env.items() if name in _UV_NAMES})
    env.update(index_credentials.uv_settings(app_env))
    env.update({
        "UV_NO_CONFIG": "1",  # no uv.toml of the host
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "UV_CACHE_DIR": str(uv_cache),
        "UV_SYSTEM_CERTS": "1",  # the system trust store, as for pip
        # pip takes the best version any index offers; uv's default takes the
        # first index that has the package. pip's rule installs what pip did.
        "UV_INDEX_STRATEGY": "unsafe-best-match",
        # uv's default on Linux hard-links files from its cache into site-packages:
        # a file later written in place in the slug would then change uv's cache,
        # and every later install of that package. Copies, as pip makes.
        "UV_LINK_MODE": "copy",
    })
    if not use_cache:
        env["UV_NO_CACHE"] = "1"
    return env


def install_locked(runtime: InstalledRuntime, locked: Path, app_dir: Path, env: Mapping[str, str],
                   installer: str) -> None:
    """Exactly the pins of a lock's export (or pylock.toml): no resolution, every hash checked."""
    arguments = ["--no-deps", "--require-hashes", "--requirement", str(locked)]
    step = "install the locked dependencies"
    if installer == "uv":
        _uv(runtime, arguments, env, app_dir, step)
    else:
        _pip(runtime, ["install", *arguments], env, step, cwd=app_dir)


def install_project(runtime: InstalledRuntime, app_dir: Path, env: Mapping[str, str], installer: str) -> None:
    """The app's own project, editable (its code stays where the app ships it),
    without dependencies: the lock installed them."""
    arguments = ["--no-deps", "--editable", "."]
    if installer == "uv":
        _uv(runtime, arguments, env, app_dir, "install the project")
    else:
        _pip(runtime, ["install", *arguments], env, "install the project", cwd=app_dir)


def install_extras(runtime: InstalledRuntime, app_dir: Path, env: Mapping[str, str], extra: tuple[str, ...],
                   *, constraints: Path, installer: str) -> None:
    """What the build adds beside a lock (the web server, the line's setuptools),
    kept to the lock's versions of anything the lock has."""
    if not extra:
        return
    arguments = [*extra, "--constraint", str(constraints)]
    if installer == "uv":
        _uv(runtime, arguments, env, app_dir, "install the web server")
    else:
        _pip(runtime, ["install", *arguments], env, "install the web server", cwd=app_dir)


def _uv(runtime: InstalledRuntime, arguments: list[str], env: Mapping[str, str], app_dir: Path,
        step: str = "install the app's requirements") -> None:
    argv = [uv_binary(), "pip", "install", "--python", str(runtime.python), "--compile-bytecode",
            *arguments]
    try:
        printed = commands.run(argv, env=env, cwd=app_dir)
    except commands.CommandFailed as failure:
        raise _installer_failed(failure, step, runtime, env, "uv") from failure
    _sum_up(printed, ("Installed ", "Uninstalled ", "Audited "))
    relocate.make_scripts_relative(runtime.home / "bin")




def remove_orphans(runtime: InstalledRuntime, roots: list[str], env: Mapping[str, str]) -> list[str]:
    """Uninstall what no root requirement needs any more (after an in-place update)."""
    script = resources.files("python_buildpack.install").joinpath("data/find_orphans.py")
    with resources.as_file(script) as path:
        found = commands.capture([str(runtime.python), str(path), json.dumps(roots)], env=env)
    orphans: list[str] = json.loads(found.strip().splitlines()[-1])
    if orphans:
        output.info(f"Removing packages no requirement needs any more: {', '.join(orphans)}")
        _pip(runtime, ["uninstall", "--yes", *orphans], env, "remove unneeded packages")
    return orphans


def install_server(runtime: InstalledRuntime, tools: ToolVersions, env: Mapping[str, str]) -> None:
    install_servers(runtime, [tools.server_requirement()], env)


def install_servers(runtime: InstalledRuntime, requirements: list[str], env: Mapping[str, str]) -> None:
    _pip(runtime, ["install", *requirements], env, "install the web server")


def has_module(runtime: InstalledRuntime, module: str, env: Mapping[str, str]) -> bool:
    try:
        commands.capture([str(runtime.python), "-c", f"import {module}"], env=env)
    except commands.CommandFailed:
        return False
    return True


def _pip(runtime: InstalledRuntime, arguments: list[str], env: Mapping[str, str], step: str,
         cwd: Path | None = None) -> None:
    flags = _PIP_FLAGS + (_INSTALL_FLAGS if arguments[0] == "install" else ())
    argv = [str(runtime.python), "-m", "pip", *arguments, *flags]
    try:
        printed = commands.run(argv, env=env, cwd=cwd)
    except commands.CommandFailed as failure:
        raise _installer_failed(failure, step, runtime, env) from failure
    _sum_up(printed, ("Successfully installed ", "Successfully uninstalled "))
    relocate.make_scripts_relative(runtime.home / "bin")


def _installer_failed(failure: commands.CommandFailed, step: str, runtime: InstalledRuntime,
                      env: Mapping[str, str], installer: str = "pip") -> errors.BuildpackError:
    """A full disk, a private index that refused the credentials, or pip's (uv's)
    failure diagnosed from its output."""
    if disk_space.is_disk_full(failure):
        return errors.disk_full(str(runtime.home))
    diagnosis = pip_failures.diagnose(failure.tail)
    if diagnosis.cause in ("no-such-package", "no-matching-version"):
        refused = index_probe.refusal(env, diagnosis.name)
        if refused is not None:
            return errors.index_refused(refused.host, refused.status, refused.setting, installer)
    return errors.pip_failed(
        step, failure.exit_code, diagnosis, runtime.version, installer=installer,
        installer_version=installed_pip_version(runtime) if installer == "pip" else None,
        hook=system_registry.hook_providing(diagnosis.name))


def _sum_up(printed: list[str], prefixes: tuple[str, ...]) -> None:
    """In a quiet build, the installer's own closing lines stand for its output."""
    for line in printed:
        if line.strip().startswith(prefixes):
            output.quiet_only(line.strip())
