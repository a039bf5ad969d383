"""Recognising a full disk, whichever way it shows up.

A full disk reaches the buildpack as an OSError (ENOSPC, EDQUOT) from its own
writes, or as "No space left on device" in the output of tar, cp or pip.
Either way the user must hear "the disk is full", not "the archive is
corrupt", and a cache layer must not be thrown away for it.
"""

from __future__ import annotations

import errno
import os

from python_buildpack.support import commands

_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_MESSAGES = ("No space left on device", "Disk quota exceeded")


def is_disk_full(failure: BaseException) -> bool:
    if isinstance(failure, OSError):
        return failure.errno in _ERRNOS
    if isinstance(failure, commands.CommandFailed):
        return any(message in line for line in failure.tail for message in _MESSAGES)
    return False


def where(failure: BaseException) -> str:
    """The directory the failed write was in, when the failure names it."""
    filename = failure.filename if isinstance(failure, OSError) else None
    if not filename:
        return "the build or cache directory"
    return os.path.dirname(os.fsdecode(filename)) or "."
