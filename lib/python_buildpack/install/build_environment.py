"""The environment of the app's own install and build commands.

The app's variables (ENV_DIR) reach those commands only with
`exposeEnvironmentsOnBuild: true`. Variables that would break the build, and
the app at run time, are refused by name whatever that setting says.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from python_buildpack import errors

REFUSED_VARIABLES = {
    "PYTHONHOME": "it points Python at another standard library, so the app's Python cannot start.",
    "PYTHONPATH": "it puts other code before the app's packages; put imports in requirements.txt.",
    "PYTHONPLATLIBDIR": "it moves where Python looks for its own modules.",
    "PYTHONUSERBASE": "packages belong in the app's environment, not a user directory.",
    "PYTHONEXECUTABLE": "it makes Python report another interpreter.",
    "PYTHONINSPECT": "it leaves every Python command waiting for input.",
    "VIRTUAL_ENV": "the buildpack manages the app's environment; a virtualenv path misleads pip.",
    "PIP_TARGET": "pip would install packages outside the app's environment.",
    "PIP_PREFIX": "pip would install packages outside the app's environment.",
    "PIP_ROOT": "pip would install packages outside the app's environment.",
    "PIP_USER": "pip would install packages into a user directory the app does not read.",
    "PIP_REQUIRE_VIRTUALENV": "the app's environment is not a virtualenv, so pip would refuse to install.",
    "PIP_CONFIG_FILE": "pip's settings come from the buildpack; use PIP_INDEX_URL for a private index.",
    "LD_PRELOAD": "a preloaded library is injected into every program of the build.",
}


def check_app_variables(app_env: Mapping[str, str]) -> None:
    for name in sorted(app_env):
        if name in REFUSED_VARIABLES:
            raise errors.refused_variable(name, REFUSED_VARIABLES[name])


def command_environment(
    pip_env: Mapping[str, str], app_env: Mapping[str, str], expose: bool, app_dir: Path
) -> dict[str, str]:
    """pip's isolated environment, the app's variables when exposed, and the
    platform's well-known values commands expect."""
    env = dict(app_env) if expose else {}
    env.update(pip_env)
    env["APP_ROOT"] = str(app_dir)
    return env
