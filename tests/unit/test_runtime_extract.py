"""Hostile runtime archives are refused before anything is written outside the target."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from python_buildpack.reporting.errors import BuildpackError
from python_buildpack.runtime import python_runtime
from python_buildpack.runtime.python_runtime import extract_safely


def make_archive(path: Path, members: list[tarfile.TarInfo]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            data = b"x" * member.size if member.isfile() else None
            tar.addfile(member, io.BytesIO(data) if data is not None else None)
    return path


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 1) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = size if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    "member",
    [
        entry("python/../../evil"),
        entry("/tmp/evil"),
        entry("elsewhere/file"),
        entry("python/link", tarfile.SYMTYPE, "/etc/passwd"),
        entry("python/link", tarfile.SYMTYPE, "../../outside"),
        entry("python/hard", tarfile.LNKTYPE, "etc/passwd"),
        entry("python/dev", tarfile.CHRTYPE),
        entry("python/fifo", tarfile.FIFOTYPE),
    ],
)
def test_hostile_entries_are_refused(tmp_path: Path, member: tarfile.TarInfo) -> None:
    archive = make_archive(tmp_path / "a.tar.gz", [entry("python/ok"), member])
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(BuildpackError) as caught:
        extract_safely(archive, target)
    assert caught.value.code == "runtime::unsafe-archive"
    assert list(target.iterdir()) == []
    assert not (tmp_path / "evil").exists()


def test_relative_links_inside_python_are_fine(tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "a.tar.gz", [
        entry("python/bin/python3.12"),
        entry("python/bin/python3", tarfile.SYMTYPE, "python3.12"),
        entry("python/lib/x", tarfile.SYMTYPE, "../bin/python3.12"),
    ])
    extract_safely(archive, tmp_path / "t")
    assert (tmp_path / "t" / "python" / "bin" / "python3").resolve().name == "python3.12"


def test_corrupt_archive_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(BuildpackError) as caught:
        extract_safely(archive, tmp_path)
    assert caught.value.code == "runtime::corrupt-archive"


def test_setuid_entries_are_refused(tmp_path: Path) -> None:
    member = entry("python/bin/sudo-like")
    member.mode = 0o4755
    archive = make_archive(tmp_path / "a.tar.gz", [member])
    with pytest.raises(BuildpackError) as caught:
        extract_safely(archive, tmp_path)
    assert "set-user-ID" in caught.value.detail


@pytest.mark.parametrize(
    "members",
    [
        # found by the stress suite: each link alone stays inside, but a link
        # through another link escapes (python/a is python/, so python/b is the target root)
        [entry("python/a", tarfile.SYMTYPE, "."), entry("python/b", tarfile.SYMTYPE, "a/.."),
         entry("python/c", tarfile.SYMTYPE, "b/..")],
        [entry("python/d", tarfile.SYMTYPE, "bin"), entry("python/d/e", tarfile.SYMTYPE, "../..")],
        [entry("python/d", tarfile.SYMTYPE, "bin"), entry("python/d/file")],
        [entry("python/d", tarfile.SYMTYPE, "bin"), entry("python/h", tarfile.LNKTYPE, "python/d/x")],
    ],
)
def test_links_through_links_are_refused(tmp_path: Path, members: list[tarfile.TarInfo]) -> None:
    archive = make_archive(tmp_path / "a.tar.gz", [entry("python/bin/x"), *members])
    target = tmp_path / "target"
    with pytest.raises(BuildpackError) as caught:
        extract_safely(archive, target)
    assert caught.value.code == "runtime::unsafe-archive"
    assert not target.exists() or list(target.iterdir()) == []


@pytest.mark.parametrize("compression", ["gz", "xz", "bz2", ""])
def test_each_compression_unpacks_and_leaves_no_plain_tar(tmp_path: Path, compression: str) -> None:
    archive = tmp_path / "src" / f"a.tar{'.' + compression if compression else ''}"
    archive.parent.mkdir()
    with tarfile.open(archive, f"w:{compression}") as tar:
        info = entry("python/bin/python3", size=5)
        tar.addfile(info, io.BytesIO(b"hello"))
    extract_safely(archive, tmp_path / "out" / "t")
    assert (tmp_path / "out" / "t" / "python" / "bin" / "python3").read_bytes() == b"hello"
    assert [path.name for path in (tmp_path / "out").iterdir()] == ["t"]  # the inflated copy is gone


def test_a_size_bomb_stops_at_its_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The limit is lowered (1 MiB instead of 1 GiB) so the bomb is small; the
    # stress suite unpacks a real 1 GiB one.
    monkeypatch.setattr(python_runtime, "_MAX_UNPACKED_BYTES", 1 << 20)
    written: list[int] = []
    real_write = python_runtime._Tee.readinto

    def counting(self: python_runtime._Tee, buffer: bytearray) -> int:
        count = real_write(self, buffer)
        written.append(count)
        return count

    monkeypatch.setattr(python_runtime._Tee, "readinto", counting)
    archive = make_archive(tmp_path / "a.tar.gz", [entry("python/ok"), entry("python/zeros", size=8 << 20)])
    with pytest.raises(BuildpackError) as caught:
        extract_safely(archive, tmp_path / "out" / "t")
    assert caught.value.code == "runtime::unsafe-archive"
    assert "more than 1 GiB" in caught.value.detail
    assert sum(written) < 1 << 20  # the 8 MiB of data were never inflated to disk
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
