"""A stand-in for the CNB lifecycle's detect phase, written from the Buildpack
API 0.10 specification (buildpacks/spec, tag buildpack/v0.10, buildpack.md).

The lifecycle itself (a Go binary) cannot be installed on these machines, so
the tests drive bin/detect the way the spec says the lifecycle does, and check
what it writes against the spec's formats. Section names are the spec's.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib
from helpers import REPO

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
