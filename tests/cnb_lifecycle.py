"""A stand-in for the CNB lifecycle, written from the Buildpack API 0.10
specification (buildpacks/spec, tag buildpack/v0.10, buildpack.md): the detect
and build phases, what the analyzer and restorer leave before a rebuild, and
the launcher's environment and process.

The lifecycle itself (a Go binary) cannot be installed on these machines, so
the tests drive bin/detect and bin/build the way the spec says the lifecycle
does, and check what they write against the spec's formats. Quoted names are
the spec's section titles. Not modelled: several buildpacks in a group, exec.d,
slices, SBOMs, the export to an image.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
import tomllib
from helpers import LEANCLOUD_ENV, REPO, Result, RunningApp, free_port

API = "0.10"
# "Detection": exit status pass (0), fail (100), or error (1-99, 101+).
DETECT_PASS, DETECT_FAIL = 0, 100
# "Targets" (Provided by the Lifecycle): what the lifecycle sets from the run image.
TARGET_ENV = {"CNB_TARGET_OS": "linux", "CNB_TARGET_ARCH": "amd64",
              "CNB_TARGET_DISTRO_NAME": "debian", "CNB_TARGET_DISTRO_VERSION": "12"}


@dataclass
class Detected:
    returncode: int
    stdout: str
    stderr: str
    plan: dict[str, Any] | None  # the Build Plan (TOML) it wrote, parsed; None when empty


def platform_environment(platform_dir: Path, base: Mapping[str, str]) -> dict[str, str]:
    """"Provided by the Platform": every file in <platform>/env/ becomes a variable
    of detect and build (clear-env is false in our buildpack.toml): its name the
    file's, its value the file's content, overriding what is set."""
    env = dict(base)
    env_dir = platform_dir / "env"
    for path in sorted(env_dir.iterdir()) if env_dir.is_dir() else []:
        env[path.name] = path.read_text()
    return env


def detect(app: Path, platform_dir: Path, work: Path, base_env: Mapping[str, str],
           buildpack_dir: Path = REPO) -> Detected:
    """"Detection": Executable /bin/detect, Working Dir <app>; inputs
    CNB_BUILD_PLAN_PATH (E), CNB_BUILDPACK_DIR (ER), CNB_PLATFORM_DIR (AR), no
    positional arguments (removed in API 0.8, "Deprecations")."""
    plan_path = work / "plan.toml"
    plan_path.write_text("")
    env = platform_environment(platform_dir, base_env)
    env.update(TARGET_ENV, CNB_BUILD_PLAN_PATH=str(plan_path), CNB_BUILDPACK_DIR=str(buildpack_dir),
               CNB_PLATFORM_DIR=str(platform_dir))
    completed = subprocess.run([str(buildpack_dir / "bin" / "detect")], cwd=app, env=env,
                               capture_output=True, text=True, timeout=300, check=False)
    text = plan_path.read_text()
    plan = tomllib.loads(text) if text.strip() else None
    if plan is not None:
        check_build_plan(plan)
    return Detected(completed.returncode, completed.stdout, completed.stderr, plan)


def check_build_plan(plan: dict[str, Any]) -> None:
    """"Build Plan (TOML)": top-level `provides` and `requires` lists (and `or`,
    a list of such pairs); each entry a table with a string `name`; a
    `requires` entry may have a `metadata` table (buildpack-specific)."""
    assert set(plan) <= {"provides", "requires", "or"}, plan
    for pair in [plan, *plan.get("or", [])]:
        for entry in pair.get("provides", []):
            assert set(entry) == {"name"}, entry
            assert isinstance(entry["name"], str), entry
        for entry in pair.get("requires", []):
            assert set(entry) <= {"name", "metadata"}, entry
            assert isinstance(entry["name"], str), entry
            assert isinstance(entry.get("metadata", {}), dict), entry


def host_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYENV", "CNB_"))}


# --- Phase #5: Build -------------------------------------------------------

RESERVED_LAYER_NAMES = {"build", "launch", "store"}  # "Build": MUST NOT create layers so named
_PROCESS_TYPE = re.compile(r"^[A-Za-z0-9._-]+$")  # "launch.toml (TOML)": numbers, letters, . _ -


def descriptor(buildpack_dir: Path = REPO) -> dict[str, Any]:
    """buildpack.toml: the packaged buildpack's file, or (a source checkout) what
    `make package` writes into it."""
    path = buildpack_dir / "buildpack.toml"
    if path.is_file():
        return tomllib.loads(path.read_text())
    from python_buildpack.cnb.descriptor import descriptor as packaged_descriptor  # noqa: PLC0415

    return packaged_descriptor()


def buildpack_plan(build_plan: dict[str, Any]) -> dict[str, Any]:
    """"Buildpack Plan (TOML)": the entries this buildpack provided and every
    buildpack of the group required (here: it alone), with their metadata."""
    return {"entries": [{"name": entry["name"], "metadata": entry.get("metadata", {})}
                        for entry in build_plan["requires"]]}


def build(app: Path, layers: Path, platform_dir: Path, work: Path, base_env: Mapping[str, str],
          build_plan: dict[str, Any], buildpack_dir: Path = REPO,
          as_user: list[str] | None = None) -> Result:
    """"Build": Executable /bin/build, Working Dir <app>; inputs CNB_LAYERS_DIR
    (EIC), CNB_BP_PLAN_PATH (ER), CNB_BUILDPACK_DIR (ER), CNB_PLATFORM_DIR (AR).
    "Provided by the Platform": with clear-env = true the platform's env files
    are not exported as variables."""
    assert descriptor(buildpack_dir)["buildpack"]["clear-env"] is True
    plan_path = work / "buildpack-plan.toml"
    plan_path.write_text(tomli_w.dumps(buildpack_plan(build_plan)))
    layers.mkdir(parents=True, exist_ok=True)
    env = dict(base_env)
    env.update(TARGET_ENV, CNB_LAYERS_DIR=str(layers), CNB_BP_PLAN_PATH=str(plan_path),
               CNB_BUILDPACK_DIR=str(buildpack_dir), CNB_PLATFORM_DIR=str(platform_dir))
    completed = subprocess.run([*(as_user or []), str(buildpack_dir / "bin" / "build")], cwd=app, env=env,
                               capture_output=True, text=True, timeout=900, check=False)
    result = Result(completed.returncode, completed.stdout, completed.stderr)
    if result.returncode == 0:
        check_layers(layers)
    return result


def check_layers(layers: Path) -> None:
    """Every TOML file the build wrote, against the spec's formats."""
    for path in sorted(layers.glob("*.toml")):
        document = tomllib.loads(path.read_text())
        if path.stem == "launch":
            check_launch_toml(document)
        elif path.stem == "build":
            assert set(document) <= {"unmet"}, document
        elif path.stem != "store":
            check_layer_metadata(document)
    for directory in layers.iterdir():
        assert directory.name not in RESERVED_LAYER_NAMES, directory


def check_layer_metadata(document: dict[str, Any]) -> None:
    """"Layer Content Metadata (TOML)": [types] with launch, build, cache booleans; [metadata]."""
    assert set(document) <= {"types", "metadata"}, document
    types = document.get("types", {})
    assert set(types) <= {"launch", "build", "cache"}, types
    assert all(isinstance(value, bool) for value in types.values()), types
    assert isinstance(document.get("metadata", {}), dict), document


def check_launch_toml(document: dict[str, Any]) -> None:
    """"launch.toml (TOML)": labels (unique keys), processes (type, command list,
    args, default, working-dir; at most one default per buildpack), slices."""
    assert set(document) <= {"labels", "processes", "slices"}, document
    keys = [label["key"] for label in document.get("labels", [])]
    assert len(keys) == len(set(keys)), keys
    for label in document.get("labels", []):
        assert set(label) == {"key", "value"}, label
        assert all(isinstance(value, str) for value in label.values()), label
    processes = document.get("processes", [])
    assert len({p["type"] for p in processes}) == len(processes), processes
    assert sum(bool(p.get("default")) for p in processes) <= 1, processes
    for process in processes:
        assert set(process) <= {"type", "command", "args", "default", "working-dir"}, process
        assert _PROCESS_TYPE.match(process["type"]), process
        assert process["command"], process
        assert all(isinstance(part, str) for part in process["command"] + process.get("args", [])), process
        assert isinstance(process.get("default", False), bool), process


def restore_for_rebuild(layers: Path) -> None:
    """What the lifecycle leaves in <layers> before the next build ("Layer Types"
    table, "Reusing Layers"): a cached layer's directory and its metadata without
    [types]; a launch-only layer's metadata (from the app image) but not its
    directory; nothing of other layers; launch.toml and build.toml are gone
    (store.toml is kept)."""
    for path in sorted(layers.glob("*.toml")):
        if path.stem in ("launch", "build"):
            path.unlink()
            continue
        if path.stem == "store":
            continue
        document = tomllib.loads(path.read_text())
        types = document.pop("types", {})
        directory = layers / path.stem
        if not types.get("cache"):
            shutil.rmtree(directory, ignore_errors=True)
        if types.get("cache") or types.get("launch"):
            path.write_text(tomli_w.dumps(document))
        else:
            path.unlink()


# --- Launch ------------------------------------------------------------------

def _modify(env: dict[str, str], directory: Path) -> None:
    """"Environment Variable Modification Rules" for one env directory."""
    files = sorted(p for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []
    delims = {p.name.split(".", 1)[0]: p.read_text() for p in files if p.name.endswith(".delim")}
    for path in files:
        name, _, suffix = path.name.partition(".")
        value = path.read_text()
        current = env.get(name, "")
        delim = delims.get(name, "")
        if suffix in ("", "override"):
            env[name] = value
        elif suffix == "default":
            env[name] = current or value
        elif suffix == "prepend":
            env[name] = value + delim + current if current else value
        elif suffix == "append":
            env[name] = current + delim + value if current else value


def launch_environment(layers: Path, process_type: str, base: Mapping[str, str]) -> dict[str, str]:
    """"Launch" and "Layer Paths": for each launch layer (one buildpack: by name,
    ascending), <layer>/bin on PATH and <layer>/lib on LD_LIBRARY_PATH, then its
    env/, env.launch/ and env.launch/<process>/ files."""
    env = dict(base)
    for metadata in sorted(layers.glob("*.toml")):
        layer = layers / metadata.stem
        types = tomllib.loads(metadata.read_text()).get("types", {})
        if metadata.stem in RESERVED_LAYER_NAMES or not types.get("launch") or not layer.is_dir():
            continue
        for variable, sub in (("PATH", "bin"), ("LD_LIBRARY_PATH", "lib")):
            if (layer / sub).is_dir():
                env[variable] = f"{layer / sub}:{env[variable]}" if env.get(variable) else str(layer / sub)
        for directory in (layer / "env", layer / "env.launch", layer / "env.launch" / process_type):
            _modify(env, directory)
    return env


def launch_argv(layers: Path, process_type: str) -> tuple[list[str], Path]:
    """The process's command with its args, and its working directory."""
    document = tomllib.loads((layers / "launch.toml").read_text())
    (process,) = [p for p in document["processes"] if p["type"] == process_type]
    return [*process["command"], *process.get("args", [])], Path(process["working-dir"])


@contextlib.contextmanager
def launched(layers: Path, process_type: str, log: Path, home: Path,
             as_user: list[str] | None = None) -> Iterator[RunningApp]:
    """Start a process as the launcher would, in a run image's environment with
    PORT set (CNB platforms set PORT) and the platform's LEANCLOUD_* values."""
    port = free_port()
    base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "PORT": str(port), **LEANCLOUD_ENV}
    env = launch_environment(layers, process_type, base)
    argv, working_dir = launch_argv(layers, process_type)
    with open(log, "wb") as sink:
        process = subprocess.Popen([*(as_user or []), *argv], cwd=working_dir, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield RunningApp(process, port, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
