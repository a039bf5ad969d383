"""Hostile runtime archives served by a real mirror on 127.0.0.1 and unpacked by the
real bin/compile: refused whole, nothing written outside the slug and cache
(measured), no partial runtime left, no secret printed."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import http_server

from stress.support import (
    DECOY_TEXT,
    Figures,
    Sandbox,
    app_from_fixture,
    build_in,
    partial_runtime_left,
    secret_env_dir,
)

pytestmark = [pytest.mark.stress, pytest.mark.integration]
Entry = tuple[str, bytes, str, bytes]  # name, tar type, link target, content
EVIL = b"written outside the target\n"
# The runtime unpacks in app/.lean/.runtime-*/: four levels up is the sandbox.
UP_TO_SANDBOX = "../../../../"


class Zeros(io.RawIOBase):
    """A stream of zero bytes: 1 GiB of them gzip to 4.5 MB."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def write_archive(path: Path, entries: list[Entry]) -> None:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        tar.addfile(tarfile.TarInfo("python/bin/"))  # looks like a runtime at first
        for name, kind, link, data in entries:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            if kind == tarfile.REGTYPE:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)


def size_bomb(path: Path, _sandbox: Sandbox) -> None:
    size = (1 << 30) + (1 << 20)
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("python/lib/zeros")
        info.size = size
        tar.addfile(info, io.BufferedReader(Zeros(size), 1 << 20))


def entry_bomb(path: Path, _sandbox: Sandbox) -> None:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for index in range(100_001):
            tar.addfile(tarfile.TarInfo(f"python/lib/f{index}"), io.BytesIO(b""))


def entries(make: Callable[[Sandbox], list[Entry]]) -> Callable[[Path, Sandbox], None]:
    return lambda path, sandbox: write_archive(path, make(sandbox))


SYM, LNK, REG = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.REGTYPE
HOSTILE: dict[str, Callable[[Path, Sandbox], None]] = {
    "dot-dot path": entries(lambda s: [(f"python/{UP_TO_SANDBOX}escape", REG, "", EVIL)]),
    "absolute path": entries(lambda s: [(str(s.absolute_targets[0]), REG, "", EVIL)]),
    "outside python/": entries(lambda s: [("etc/cron.d/evil", REG, "", EVIL)]),
    "symlink to absolute, then through it": entries(lambda s: [
        ("python/lib", SYM, str(s.absolute_targets[0].parent), b""), ("python/lib/evil", REG, "", EVIL)]),
    "symlink up and out, then through it": entries(lambda s: [
        ("python/out", SYM, UP_TO_SANDBOX, b""), ("python/out/escape", REG, "", EVIL)]),
    "symlink through symlink": entries(lambda s: [
        ("python/a", SYM, ".", b""), ("python/b", SYM, "a/..", b""), ("python/c", SYM, "b/../../../..", b""),
        ("python/c/escape", REG, "", EVIL)]),
    "hard link out, then written": entries(lambda s: [
        ("python/h", LNK, f"python/{UP_TO_SANDBOX}decoy", b""), ("python/h", REG, "", EVIL)]),
    "hard link to /etc/shadow": entries(lambda s: [("python/shadow", LNK, "/etc/shadow", b"")]),
    "character device": entries(lambda s: [("python/null", tarfile.CHRTYPE, "", b"")]),
    "block device": entries(lambda s: [("python/sda", tarfile.BLKTYPE, "", b"")]),
    "fifo": entries(lambda s: [("python/pipe", tarfile.FIFOTYPE, "", b"")]),
    "decompression bomb (1 GiB of zeros)": size_bomb,
    "entry bomb (100,001 entries)": entry_bomb,
}


def serve_archive(directory: Path, make: Callable[[Path, Sandbox], None], sandbox: Sandbox) -> None:
    directory.mkdir()
    archive = directory / "cpython-3.12.1-x86_64-unknown-linux-gnu-install_only.tar.gz"
    make(archive, sandbox)
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    (directory / "manifest.json").write_text(json.dumps(
        {"schema": 1, "runtimes": [{"version": "3.12.1", "url": archive.name, "sha256": digest}]}))


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_archive_is_refused(tmp_path: Path, figures: Figures, case: str) -> None:
    sandbox = Sandbox(tmp_path / "sandbox")
    app_from_fixture(sandbox)
    env = secret_env_dir(sandbox.root / "env")
    serve_archive(tmp_path / "mirror", HOSTILE[case], sandbox)
    row = figures.row(f"archive: {case}")
    row.trials += 1
    with http_server(tmp_path / "mirror") as url:
        result = build_in(sandbox, url, env)
    row.add_outside(sandbox.bytes_outside())
    row.add_leaks(env.leaks(result.output))
    assert result.returncode == 1, result.output
    assert "[runtime::unsafe-archive]" in result.stderr, result.output
    assert "Traceback" not in result.output
    assert sandbox.bytes_outside() == 0
    assert sandbox.decoy.read_text() == DECOY_TEXT
    assert not (sandbox.app / ".lean" / "python").exists()
    assert partial_runtime_left(sandbox) == []
    assert not (sandbox.cache / "python-buildpack" / "layers").exists()
    assert env.leaks(result.output) == 0
    row.passed += 1
