"""The lock managers the buildpack runs: uv from its own tools, and Poetry and
Pipenv each in a virtual environment of their own beside those tools.

Poetry and Pipenv are installed on first use, exactly as pinned in
requirements/managers/ (every package, no resolution), from the package
registry, isolated from the build host's pip configuration. They read the
app's lock and write a requirements file; they never install into the app,
and nothing of them reaches the slug.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.reporting import errors, output
from python_buildpack.support import buildpack_tools, commands

BUILDPACK_DIR = buildpack_tools.BUILDPACK_DIR
PINS_DIR = BUILDPACK_DIR / "requirements" / "managers"
_DISPLAY = {"uv": "uv", "poetry": "Poetry", "pipenv": "Pipenv", "pylock": "uv"}
_PASSTHROUGH = ("PATH", "LANG", "LC_ALL", "TMPDIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def uv_binary() -> str:
    """uv from the buildpack's own tools (requirements/buildpack.txt)."""
    return str(buildpack_tools.program("uv"))


def pinned_version(manager: str) -> str:
    """The version of the tool that reads the manager's lock, from its pin file."""
    name, pins = {"uv": ("uv", "buildpack.txt"), "pylock": ("uv", "buildpack.txt")}.get(
        manager, (manager, f"managers/{manager}.txt")
    )
    path = BUILDPACK_DIR / "requirements" / pins
    for line in path.read_text().splitlines() if path.is_file() else []:
        if line.lower().startswith(f"{name}=="):
            return line.split("==", 1)[1].split()[0]
    return ""


def display_name(manager: str) -> str:
    return _DISPLAY.get(manager, manager)


def tools_dir() -> Path:
    """The buildpack's writable tools directory (see support/buildpack_tools.py)."""
    return buildpack_tools.tools_dir()


@dataclass(frozen=True)
class Step:
    argv: list[str]
    stdout_to: Path | None = None  # the export, for a tool that prints it


# The packaged buildpack's managers are plain directories of packages in
# vendor/managers/ (pip --target): run on the buildpack's own interpreter with
# only that directory before the standard library, as bin/_bootstrap.sh runs lib/.
_RUN_VENDORED = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1));"
                 " sys.argv[0] = sys.argv[1]; runpy.run_module(sys.argv.pop(1), run_name='__main__')")


@dataclass(frozen=True)
class ManagerTool:
    name: str  # poetry or pipenv
    home: Path  # its virtual environment, or its vendored directory
    vendored: bool = False  # carried by the packaged buildpack (make package)

    @property
    def python(self) -> str:
        return str(self.home / "bin" / "python")

    @property
    def command(self) -> list[str]:
        if self.vendored:
            return [sys.executable, "-I", "-S", "-c", _RUN_VENDORED, str(self.home), self.name]
        # `python -m`, not the entry script: the environment was built in a
        # staging directory and moved, so the scripts' #! lines point nowhere.
        return [self.python, "-m", self.name]

    def check_and_export(self, target: Path) -> list[Step]:
        """The commands that check the lock is up to date, then export its default
        group. `poetry export` checks by itself (one Poetry start-up, 2 s, saved);
        `pipenv requirements` does not, so `pipenv verify` runs first."""
        if self.name == "poetry":
            return [
                Step(
                    [
                        *self.command,
                        "export",
                        "--only",
                        "main",
                        "--format",
                        "requirements.txt",
                        "--output",
                        str(target),
                        "--no-interaction",
                    ]
                ),
            ]
        return [
            Step([*self.command, "verify"]),
            Step([*self.command, "requirements", "--hash"], stdout_to=target),
        ]

    def environment(self, app_dir: Path, work: Path) -> dict[str, str]:
        """Only what the tool needs: no user config, no virtualenv, caches in `work`."""
        env = {name: os.environ[name] for name in _PASSTHROUGH if name in os.environ}
        env.update({"HOME": str(work / "home"), "PYTHONNOUSERSITE": "1", "NO_COLOR": "1"})
        if SYSTEM_CA_BUNDLE.is_file():
            env["REQUESTS_CA_BUNDLE"] = env["SSL_CERT_FILE"] = str(SYSTEM_CA_BUNDLE)
        if self.name == "poetry":
            env.update(
                {
                    "POETRY_VIRTUALENVS_CREATE": "false",
                    "POETRY_CONFIG_DIR": str(work / "poetry-config"),
                    "POETRY_CACHE_DIR": str(work / "poetry-cache"),
                    "POETRY_DATA_DIR": str(work / "poetry-data"),
                    "POETRY_NO_INTERACTION": "1",
                }
            )
        else:
            env.update(
                {
                    "PIPENV_PIPFILE": str(app_dir / "Pipfile"),
                    "PIPENV_IGNORE_VIRTUALENVS": "1",
                    "PIPENV_NOSPIN": "1",
                    "PIPENV_YES": "1",
                    "PIPENV_CACHE_DIR": str(work / "pipenv-cache"),
                    "PIPENV_DONT_LOAD_ENV": "1",  # never the app's .env: its secrets are not the build's
                    "WORKON_HOME": str(work / "virtualenvs"),
                }
            )
        return env


def ensure(manager: str) -> ManagerTool:
    """The manager's tool: the packaged buildpack's own copy, or one installed
    beside the buildpack's tools on first use."""
    vendored = buildpack_tools.vendored_manager(manager)
    if vendored is not None:
        return ManagerTool(manager, vendored, vendored=True)
    pins = PINS_DIR / f"{manager}.txt"
    stamp = _stamp(pins)
    home = tools_dir() / "managers" / f"{manager}-{stamp}"
    tool = ManagerTool(manager, home)
    if Path(tool.python).exists():
        return tool
    _make_writable_parent(manager, home.parent)
    with open(home.parent / f"{manager}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # concurrent builds: one installs, the others wait
        if not Path(tool.python).exists():
            _install(manager, pins, home)
    return tool


def _make_writable_parent(manager: str, directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if os.access(directory, os.W_OK):
            return
    except OSError:
        pass
    raise errors.tool_missing(
        display_name(manager),
        f"it is installed on first use into {directory}, which cannot be written: "
        "set BUILDPACK_TOOLS_DIR to a writable directory",
    )


def _stamp(pins: Path) -> str:
    return hashlib.sha256(pins.read_bytes()).hexdigest()[:12]


def _install(manager: str, pins: Path, home: Path) -> None:
    output.info(f"Installing {display_name(manager)} for the buildpack (once per build machine): {pins.name}")
    staging = Path(tempfile.mkdtemp(prefix=f"{manager}.staging.", dir=home.parent))
    env = {name: os.environ[name] for name in _PASSTHROUGH if name in os.environ}
    env.update({"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"})
    cert = ["--cert", str(SYSTEM_CA_BUNDLE)] if SYSTEM_CA_BUNDLE.is_file() else []
    try:
        commands.run([sys.executable, "-m", "venv", str(staging)], env=env, echo=False)
        commands.run(
            [
                str(staging / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-deps",
                "--requirement",
                str(pins),
                *cert,
            ],
            env=env,
            echo=False,
        )
        os.replace(staging, home)
    except commands.CommandFailed as failure:
        shutil.rmtree(staging, ignore_errors=True)
        raise errors.tool_missing(
            display_name(manager),
            f"it could not be installed from {pins.relative_to(BUILDPACK_DIR)}: "
            + " / ".join(failure.tail[-3:]),
        ) from None
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        raise
