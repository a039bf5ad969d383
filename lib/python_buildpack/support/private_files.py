"""Files that hold the app's secrets while a build needs them (a netrc for the
package indexes): in a directory of their own outside the build and cache
directories (mode 0700, each file 0600), removed when the build ends, failed or
not. Neither the slug, the cache nor the step logs ever hold them."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_directory: Path | None = None


def write(name: str, content: str) -> Path:
    """Write (or replace) the private file `name`; its path."""
    global _directory  # noqa: PLW0603 -- one directory per build process, removed by remove_all
    if _directory is None or not _directory.is_dir():
        _directory = Path(tempfile.mkdtemp(prefix="buildpack-private-"))  # mode 0700
    path = _directory / name
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content)
    return path


def remove_all() -> None:
    global _directory  # noqa: PLW0603 -- see write
    if _directory is not None:
        shutil.rmtree(_directory, ignore_errors=True)
        _directory = None


def remove(name: str) -> None:
    """Remove one private file, if written (its directory stays for the others)."""
    if _directory is not None:
        (_directory / name).unlink(missing_ok=True)
