"""pyproject.toml and the lock files, read with the care of the build's other
inputs: a size limit, UTF-8, and a parse error that names the line.

Pure reading of the upload: nothing here runs a tool.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from python_buildpack.reporting import errors
from python_buildpack.support import app_files

if sys.version_info >= (3, 11):
    import tomllib
else:  # the buildpack's own Python may be 3.9 or 3.10 (requirements/buildpack.txt adds tomli there)
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
# A big lock (hundreds of packages with dozens of wheels each) is a few MB.
_MAX_BYTES = 16 * 1024 * 1024
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def read_toml(app_dir: Path, name: str) -> dict[str, Any]:
    """The TOML file's tables; a clear error when it is not TOML."""
    text = _read_text(app_dir, name)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        problem = _TOML_LINE.sub("", str(exc)).strip()
        raise errors.manifest_syntax(name, int(found.group(1)) if found else None, problem) from None
    except RecursionError:
        raise errors.manifest_syntax(name, None, "it nests tables or arrays too deeply") from None


def read_json(app_dir: Path, name: str) -> dict[str, Any]:
    """Pipfile.lock: a JSON object."""
    text = _read_text(app_dir, name)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.manifest_syntax(name, exc.lineno, exc.msg) from None
    except RecursionError:
        raise errors.manifest_syntax(name, None, "it nests objects or arrays too deeply") from None
    if not isinstance(document, dict):
        raise errors.manifest_syntax(name, 1, "it is not a JSON object")
    return document


def table(document: dict[str, Any], *keys: str) -> dict[str, Any]:
    """document[keys[0]][keys[1]]...; {} where a level is missing or not a table."""
    current: Any = document
    for key in keys:
        current = current.get(key) if isinstance(current, dict) else None
    return current if isinstance(current, dict) else {}


def string(document: dict[str, Any], *keys: str) -> str | None:
    """A string value at the path of keys, None when missing or of another type."""
    *tables, last = keys
    value = table(document, *tables).get(last)
    return value if isinstance(value, str) else None


def _read_text(app_dir: Path, name: str) -> str:
    content = app_files.read_app_file(app_dir, name, _MAX_BYTES)
    if content is None:
        raise errors.file_not_regular(name)
    if len(content) > _MAX_BYTES:
        raise errors.manifest_unreadable(name, f"it is larger than {_MAX_BYTES // (1024 * 1024)} MB")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.manifest_unreadable(name, f"it is not UTF-8 text (byte {exc.start})") from None
