"""Virtual environments and a `.lean/` directory committed with the app.

A virtual environment made on the developer's machine (`venv/`, `.venv/`, any
directory with a `pyvenv.cfg`) does not run here: its interpreter links point
into that machine. The build leaves it out of the install (the app's packages
go to .lean/python, and the environment is never on the path) but it stays in
the slug, so the log says what it costs. `.lean/` is the buildpack's own
directory in the slug: an uploaded one (a slug committed back) is replaced.
Pure reading of the upload.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from python_buildpack.support import file_snapshot
from python_buildpack.support.slug_layout import SLUG_DIR

_ENVIRONMENT_NAMES = ("venv", ".venv")


@dataclass(frozen=True)
class CommittedEnvironment:
    path: str  # relative to the upload, e.g. "venv"
    size_bytes: int
    kind: str  # "virtual environment" | "slug directory"


def find(upload: Path) -> tuple[CommittedEnvironment, ...]:
    """The upload's top-level virtual environments and its .lean/, largest first."""
    found = []
    for child in sorted(upload.iterdir()):
        if child.is_symlink() or not child.is_dir():
            continue
        if child.name == SLUG_DIR:
            found.append(_measured(child, "slug directory"))
        elif child.name in _ENVIRONMENT_NAMES or (child / "pyvenv.cfg").is_file():
            found.append(_measured(child, "virtual environment"))
    return tuple(sorted(found, key=lambda item: -item.size_bytes))


def _measured(directory: Path, kind: str) -> CommittedEnvironment:
    return CommittedEnvironment(directory.name, file_snapshot.directory_size(directory), kind)
