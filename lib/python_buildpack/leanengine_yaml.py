"""leanengine.yaml: the app's build and run settings, loaded safely."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from python_buildpack import errors

FILE_NAME = "leanengine.yaml"
# Real files are a few hundred bytes; a bigger one is a mistake or an attack.
_MAX_BYTES = 256 * 1024
KNOWN_RUNTIMES = ("python", "cpp", "dotnet", "go", "java", "nodejs", "php", "static")


@dataclass(frozen=True)
class LeanEngineConfig:
    runtime: str | None = None
    run: str | None = None


def read_text(app_dir: Path) -> str | None:
    path = app_dir / FILE_NAME
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():
        raise errors.file_not_regular(FILE_NAME)
    data = path.read_bytes()[: _MAX_BYTES + 1]
    if len(data) > _MAX_BYTES:
        raise errors.yaml_unreadable(f"The file is larger than {_MAX_BYTES // 1024} KiB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.yaml_unreadable(f"The file is not UTF-8 text (byte {exc.start}).") from exc


def parse(text: str) -> LeanEngineConfig:
    """Parse the file's text; pure, raises BuildpackError on bad input."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise errors.yaml_syntax(line, exc.problem or str(exc)) from exc
    except yaml.YAMLError as exc:
        raise errors.yaml_syntax(None, str(exc)) from exc
    if document is None:
        return LeanEngineConfig()
    if not isinstance(document, dict):
        raise errors.yaml_bad_value("(top level)", 1, "a mapping of keys to values", document)
    lines = _key_lines(node)
    return LeanEngineConfig(
        runtime=_optional_string(document, "runtime", lines),
        run=_optional_string(document, "run", lines),
    )


def load(app_dir: Path) -> LeanEngineConfig:
    text = read_text(app_dir)
    return LeanEngineConfig() if text is None else parse(text)


def _optional_string(document: dict[Any, Any], key: str, lines: dict[str, int]) -> str | None:
    value = document.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise errors.yaml_bad_value(key, lines.get(key), "a non-empty string", value)
    return value.strip()


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        str(key.value): key.start_mark.line + 1
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode)
    }
