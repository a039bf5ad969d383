"""ENV_DIR: one file per app environment variable (name = variable, content = value)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from python_buildpack import errors, output

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
