"""Where the buildpack's own programs (uv, patchelf, dumb-init), its lock
managers (Poetry, Pipenv) and its writable tools directory are: in a source
checkout, and in the packaged buildpack (`make package`).

A source checkout runs from the virtual environment bin/_bootstrap.sh made:
the programs sit beside its interpreter. The packaged buildpack carries them
in vendor/bin and runs on the build image's python3, whose directory
(/usr/bin) must not be searched: a uv found there is not the pinned one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BUILDPACK_DIR = Path(__file__).resolve().parents[3]
VENDOR_DIR = BUILDPACK_DIR / "vendor"
# Written by scripts/package_buildpack.py: the interpreter tag the vendored
# packages and the bytecode were made for. bin/_bootstrap.sh reads it too.
PACKAGED_MARKER = VENDOR_DIR / "packaged-for"


def is_packaged() -> bool:
    return PACKAGED_MARKER.is_file()


def program(name: str) -> Path:
    """The buildpack's own copy of a program its pinned requirements ship."""
    directory = VENDOR_DIR / "bin" if is_packaged() else Path(sys.executable).parent
    return directory / name


def vendored_manager(manager: str) -> Path | None:
    """The packaged buildpack's Poetry or Pipenv (vendor/managers/<manager>), if it has one."""
    directory = VENDOR_DIR / "managers" / manager
    return directory if is_packaged() and directory.is_dir() else None


def tools_dir() -> Path:
    """Where tools installed on demand (Poetry, Pipenv) go.

    In a source checkout: the directory holding the virtual environment that
    runs this code (bin/_bootstrap.sh already chose a writable one). The
    packaged buildpack has no such directory: the bootstrap exports the
    writable place it chose as BUILDPACK_TOOLS_DIR.
    """
    if is_packaged():
        # None chosen: nothing was writable; the default place makes the error name it.
        return Path(os.environ.get("BUILDPACK_TOOLS_DIR") or BUILDPACK_DIR / ".tools")
    return Path(sys.executable).parent.parent.parent
