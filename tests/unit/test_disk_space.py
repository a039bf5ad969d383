"""A full disk is told apart from other failures (the real one: tests/stress/test_disk_full.py)."""

from __future__ import annotations

import errno

import pytest
from python_buildpack.support import disk_space
from python_buildpack.support.commands import CommandFailed


@pytest.mark.parametrize(
    ("failure", "full"),
    [
        (OSError(errno.ENOSPC, "No space left on device", "/cache/runtimes/.x.part"), True),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), True),
        (OSError(errno.EACCES, "Permission denied"), False),
        (CommandFailed(["tar"], 2, ["tar: python/x: Cannot write: No space left on device"]), True),
        (CommandFailed(["tar"], 2, ["tar: Unexpected EOF in archive"]), False),
        (ValueError("No space left on device"), False),
    ],
)
def test_is_disk_full(failure: BaseException, full: bool) -> None:
    assert disk_space.is_disk_full(failure) is full


def test_where_names_the_directory() -> None:
    failure = OSError(errno.ENOSPC, "No space left on device", "/cache/runtimes/.x.part")
    assert disk_space.where(failure) == "/cache/runtimes"
    assert disk_space.where(CommandFailed(["cp"], 1, [])) == "the build or cache directory"
