"""bin/detect as a CNB (Buildpack API 0.10, "Detection"): the app is the working
directory, the plan goes to $CNB_BUILD_PLAN_PATH, and "does not apply" is
exit 100 (fail), not the classic 1 (which would be an error)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from python_buildpack.analysis import app_source
from python_buildpack.cnb import build_plan

PASS = 0
FAIL = 100


def is_requested(args: list[str], environ: Mapping[str, str]) -> bool:
    """The lifecycle runs detect without arguments (positional ones were removed
    in API 0.8) and with both variables set; the classic contract passes BUILD_DIR."""
    return not args and bool(environ.get("CNB_BUILD_PLAN_PATH")) and bool(environ.get("CNB_PLATFORM_DIR"))


def detect(app_dir: Path, environ: Mapping[str, str]) -> int:
    if not app_source.is_python_app(app_dir):
        return FAIL
    build_plan.write_plan(app_dir, Path(environ["CNB_BUILD_PLAN_PATH"]))
    return PASS
