"""Partial files of killed writers are removed; a live writer's are kept."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from python_buildpack.support.partial_files import partial_path, remove_abandoned


def test_abandoned_partials_go_live_ones_stay(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    abandoned = tmp_path / f".runtime.tar.gz.{dead.pid}.part"
    abandoned.write_bytes(b"half")
    live = partial_path(tmp_path / "runtime.tar.gz")
    live.write_bytes(b"being written")
    unrelated = tmp_path / "runtime.tar.gz"
    unrelated.write_bytes(b"whole")
    remove_abandoned(tmp_path)
    assert not abandoned.exists()
    assert live.exists()
    assert live.name == f".runtime.tar.gz.{os.getpid()}.part"
    assert unrelated.exists()
