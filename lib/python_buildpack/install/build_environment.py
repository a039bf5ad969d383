"""The environment of the app's own install and build commands.

The app's variables (ENV_DIR) reach those commands only with
`exposeEnvironmentsOnBuild: true` (variables that break the build are refused
when ENV_DIR is read, see analysis/env_dir.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def command_environment(
    pip_env: Mapping[str, str], app_env: Mapping[str, str], expose: bool, app_dir: Path
) -> dict[str, str]:
    """pip's isolated environment, the app's variables when exposed, and the
    platform's well-known values commands expect."""
    env = dict(app_env) if expose else {}
    env.update(pip_env)
    env["APP_ROOT"] = str(app_dir)
    return env
