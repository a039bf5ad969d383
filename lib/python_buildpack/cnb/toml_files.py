"""Reading and writing the CNB's TOML files (layer metadata, launch.toml).

The stdlib reads TOML from 3.11 (tomli before); tomli_w writes it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import tomli_w

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover -- the buildpack's python3 may be 3.9 or 3.10
    import tomli as tomllib


def read(path: Path) -> dict[str, Any] | None:
    """The file's table; None when it is absent or not TOML (a layer the
    buildpack then rebuilds, saying why)."""
    try:
        return tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(tomli_w.dumps(document))
