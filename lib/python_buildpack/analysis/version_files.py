"""Version files under a wrong name: `python-version`, `.python_version`,
`.python-version.txt`, `.python-version ` (a trailing space), `Runtime.txt`,
`runtime.text`, ... Such a file is ignored by every tool, so the app silently
builds on the default Python: an error that names the right file instead.

A name counts as a misspelling when, lowercased and without spaces, dots,
dashes, underscores and `.txt` endings, it is within a typo or two of
`pythonversion` or `runtime`, and the file's first word is a version (so that
an app's own `runtime` script is left alone). Pure apart from reading the
directory.
"""

from __future__ import annotations

import re
from pathlib import Path

from python_buildpack.analysis.python_version import FILE_NAME, RUNTIME_TXT
from python_buildpack.reporting import errors

# The names' cores, and how many typos (insertions, deletions, substitutions,
# swaps) still mean them: `.pyhton-version`, `runtme.txt`.
_MEANT = {"pythonversion": (FILE_NAME, 2), "runtime": (RUNTIME_TXT, 1)}
_SEPARATORS = re.compile(r"[\s._-]+")
_TEXT_ENDING = re.compile(r"(?<=.)te?xt\Z")
_LOOKS_LIKE_VERSION = re.compile(rb"\A\s*(?:\xef\xbb\xbf)?\s*(?:python-?)?\d+(?:\.\d+)*\S*\s*\Z", re.I)
_MAX_BYTES = 256


def check_version_file_names(app_dir: Path) -> None:
    """Refuse a misspelled version file when the file it means is absent (a
    `runtime.txt` typo only when neither file is there: .python-version wins)."""
    present = {FILE_NAME: _is_file(app_dir / FILE_NAME), RUNTIME_TXT: _is_file(app_dir / RUNTIME_TXT)}
    for path in sorted(app_dir.iterdir()) if app_dir.is_dir() else []:
        meant = meant_file(path.name)
        if meant is None or not _holds_a_version(path):
            continue
        shadowed = present[meant] or (meant == RUNTIME_TXT and present[FILE_NAME])
        if not shadowed:
            raise errors.python_version_misspelled_file(path.name, meant)


def meant_file(name: str) -> str | None:
    """The version file a name misspells, or None (also for the right names)."""
    if name in (FILE_NAME, RUNTIME_TXT):
        return None
    core = _SEPARATORS.sub("", name.lower())
    while core != (core := _TEXT_ENDING.sub("", core)):
        pass  # runtime.txt.txt, runtime_txt
    for wanted, (file_name, typos) in _MEANT.items():
        if core == wanted or (core.rstrip("s") == wanted) or typo_distance(core, wanted) <= typos:
            return file_name
    return None


def typo_distance(first: str, second: str) -> int:
    """Edits from one to the other, a swap of neighbours counting as one
    (optimal string alignment distance)."""
    rows = [list(range(len(second) + 1))]
    for i, a in enumerate(first, 1):
        row = [i]
        for j, b in enumerate(second, 1):
            cost = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                cost = min(cost, rows[-2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


def _is_file(path: Path) -> bool:
    return path.is_file() or path.is_symlink()


def _holds_a_version(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, "rb") as handle:
            content = handle.read(_MAX_BYTES + 1)
    except OSError:
        return False
    first_line = next((line for line in content.splitlines() if line.strip() and
                       not line.strip().startswith(b"#")), b"")
    return len(content) <= _MAX_BYTES and bool(_LOOKS_LIKE_VERSION.match(first_line))
