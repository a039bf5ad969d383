"""Which files of the app the install commands wrote: they belong to the install layer.

The install step's cached result is the app's Python environment plus any file
an install command created or changed inside the app (e.g. a downloaded model);
restoring the layer puts both back.
"""

from __future__ import annotations

import os
from pathlib import Path

Snapshot = dict[str, tuple[int, int]]


def snapshot(app_dir: Path, skip: tuple[str, ...]) -> Snapshot:
    """(mtime, size) of every regular file under app_dir, except the skipped top-level names."""
    state: Snapshot = {}
    for directory, subdirectories, files in os.walk(app_dir):
        if Path(directory) == app_dir:
            subdirectories[:] = [d for d in subdirectories if d not in skip]
        for name in files:
            path = os.path.join(directory, name)
            stat = os.lstat(path)
            if os.path.isfile(path) and not os.path.islink(path):
                state[os.path.relpath(path, app_dir)] = (stat.st_mtime_ns, stat.st_size)
    return state


def changed_files(before: Snapshot, app_dir: Path, skip: tuple[str, ...]) -> list[Path]:
    after = snapshot(app_dir, skip)
    return [app_dir / name for name, state in sorted(after.items()) if before.get(name) != state]


def directory_size(root: Path) -> int:
    """Bytes of every file under root (links count as links)."""
    total = 0
    for directory, _subdirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:
                continue  # removed while counting
    return total
