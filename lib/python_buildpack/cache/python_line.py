"""The Python line of the last successful build on this cache ("3.12"), which
keeps an app without a version file on its line when the mirror gains a newer
one (Heroku does the same; Google's buildpack moved such apps to 3.14 in 2026).

A file of its own beside the layers: a new buildpack release or layer format
discards the layers, but the app's line is a fact about the app and stays.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

from python_buildpack.support import partial_files

FILE_NAME = "python-line.json"
_LINE = re.compile(r"\d+\.\d+\Z")


def remembered_line(cache_root: Path) -> str | None:
    """The line, or None (never built here, or a file that is not ours: ignored)."""
    try:
        document = json.loads((cache_root / FILE_NAME).read_text())
    except (OSError, ValueError):
        return None
    line = document.get("line") if isinstance(document, dict) else None
    return line if isinstance(line, str) and _LINE.match(line) else None


def remember_line(cache_root: Path, version: str) -> None:
    """Called when a build succeeded; a cache that cannot be written only loses this."""
    line = ".".join(version.split(".")[:2])
    with contextlib.suppress(OSError):
        cache_root.mkdir(parents=True, exist_ok=True)
        partial_files.write_json_atomically(cache_root / FILE_NAME, {"line": line})
