"""`-r`/`-c` includes in requirement files, read the way pip reads them.

pip follows an include anywhere (``-r /etc/shadow``) and quotes the lines it
cannot parse in its errors, so an include leading out of the app would print
another file into the build log. pip's option parser also takes ``-r/x``,
``--requirement=x`` and unambiguous abbreviations (``--requirem x``), joins
lines ending in a backslash and expands ``${VARIABLES}``: all are recognised here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from python_buildpack.reporting import errors

_SHORT = re.compile(r"^-[rc]\s*=?\s*(\S+)")
_LONG = re.compile(r"^--([a-z-]+)(?:\s*=\s*|\s+)(\S+)")
# pip's parser accepts any prefix of a long option that names only one option;
# over-matching shorter prefixes only means one more path is checked.
_INCLUDE_OPTIONS = ("requirement", "constraint")


def logical_lines(text: str) -> Iterator[str]:
    """Lines as pip sees them: backslash continuations joined, comments dropped."""
    pending = ""
    for raw in text.splitlines():
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = re.sub(r"(^|\s+)#.*$", "", pending + raw).strip()
        pending = ""
        if line:
            yield line
    if pending.strip():
        yield pending.strip()


def include_target(line: str) -> str | None:
    """The file a `-r`/`-c` line includes, or None for any other line."""
    short = _SHORT.match(line)
    if short:
        return short.group(1)
    long = _LONG.match(line)
    if long and len(long.group(1)) >= 3 and any(option.startswith(long.group(1))
                                                 for option in _INCLUDE_OPTIONS):
        return long.group(2)
    return None


def check_stay_inside(app_dir: Path, files: list[Path]) -> None:
    """Refuse includes that lead out of the app (or that pip would expand)."""
    root = app_dir.resolve()
    for path in files:
        for line in logical_lines(path.read_text(errors="replace")):
            target = include_target(line)
            if target is None:
                continue
            resolved = (path.parent / target).resolve()
            if "$" in target or "://" in target or not resolved.is_relative_to(root):
                raise errors.include_leaves_app(path.relative_to(root).as_posix(), target)
