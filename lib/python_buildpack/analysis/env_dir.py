"""ENV_DIR: one file per app environment variable (name = variable, content = value)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from python_buildpack.reporting import errors, output

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# A value bigger than this is not an environment variable but a mistake.
_MAX_VALUE_BYTES = 128 * 1024


def parse_entries(entries: Iterable[tuple[str, bytes]]) -> tuple[dict[str, str], list[str]]:
    """Turn (file name, content) pairs into variables; return them and the skipped names.

    As in the classic API (``$(cat file)``), trailing newlines are dropped.
    """
    variables: dict[str, str] = {}
    skipped: list[str] = []
    for name, content in entries:
        if not _NAME.match(name) or b"\0" in content or len(content) > _MAX_VALUE_BYTES:
            skipped.append(name)
            continue
        variables[name] = content.decode("utf-8", errors="replace").rstrip("\n")
    return variables, skipped


def read_env_dir(path: Path | None) -> dict[str, str]:
    """Read ENV_DIR; odd entries are skipped with a warning that never shows values."""
    if path is None:
        return {}
    try:
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.is_symlink())
        entries = [(p.name, p.read_bytes()) for p in files]
    except OSError as exc:
        raise errors.env_dir_unreadable(str(path), exc.strerror or str(exc)) from exc
    variables, skipped = parse_entries(entries)
    output.register_secrets(variables.values())
    if skipped:
        output.warning(
            "Some ENV_DIR entries are not usable as environment variables and were skipped",
            ", ".join(errors.visible(name, 40) for name in skipped),
        )
    return variables


# Variables that break the build and the app, refused whatever
# exposeEnvironmentsOnBuild says.
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
