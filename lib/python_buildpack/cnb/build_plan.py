"""CNB detect's contribution to the Build Plan (Buildpack API 0.10, "Phase #1:
Detection" and "Build Plan (TOML)"): the buildpack provides `cpython` and
requires it itself, so other buildpacks of the group may require it too, with
the version the app pins as metadata."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from python_buildpack.analysis import app_source, python_version
from python_buildpack.reporting import errors

DEPENDENCY = "cpython"


def pinned(app_dir: Path) -> tuple[str, str] | None:
    """(version, file) the app pins, read as the build reads it; None without
    a pin or with a broken file (the build explains that one)."""
    try:
        pin = python_version.pinned_version(
            python_version.read_small_file(app_dir, python_version.FILE_NAME),
            python_version.read_small_file(app_dir, python_version.RUNTIME_TXT))
    except (errors.BuildpackError, OSError):
        return None
    return (pin.request.version, pin.origin) if pin else None


def plan_for(app_dir: Path) -> dict[str, Any]:
    metadata: dict[str, str] = {"version-source": "default (the newest stable version in the mirror)"}
    pin = pinned(app_dir)
    if pin is not None:
        metadata = {"version": pin[0], "version-source": pin[1]}
    return {"provides": [{"name": DEPENDENCY}], "requires": [{"name": DEPENDENCY, "metadata": metadata}]}


def app_root(app_dir: Path) -> Path:
    """The directory the build reads (buildRoot); the upload's root when
    leanengine.yaml is broken (the build names the problem, detect does not)."""
    try:
        return app_source.resolve_config(app_dir)[0]
    except errors.BuildpackError:
        return app_dir


def write_plan(app_dir: Path, plan_path: Path) -> None:
    plan_path.write_text(tomli_w.dumps(plan_for(app_root(app_dir))))
