"""Running the buildpack as a platform does: as an unprivileged user
(`nobody`, through setpriv), in directories that user may enter. Needs root."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = pwd.getpwnam("nobody")
AS_NOBODY = ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups", "--"]


@contextlib.contextmanager
def public_workspace(prefix: str) -> Iterator[Path]:
    """A directory under /tmp that nobody may enter (pytest's own are root's
    alone), removed at the end; skips without root."""
    if os.geteuid() != 0:
        pytest.skip("running the buildpack as another user needs root (setpriv)")
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    directory.chmod(0o755)
    try:
        yield directory
    finally:
        shutil.rmtree(directory)


def owned_by_nobody(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for entry in [path, *path.rglob("*")]:
        os.lchown(entry, NOBODY.pw_uid, NOBODY.pw_gid)
    return path
