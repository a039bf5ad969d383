"""The app's CPython: fetched from the mirror into the cache, unpacked into the slug.

Archives use the python-build-standalone "install_only" layout: one top-level
``python/`` directory. Ours also carry ``python/BUILDPACK-RUNTIME.json`` naming
the prefix the interpreter was built for, so its text files can be pointed at
the new place.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from python_buildpack.reporting import errors, output
from python_buildpack.runtime import relocate
from python_buildpack.support import commands, disk_space, partial_files

# Types only: the mirror client loads requests, which bin/image (using this
# module through the smoke check's types) must not pay for.
if TYPE_CHECKING:
    from python_buildpack.runtime.mirror import Mirror, RuntimeEntry

METADATA_NAME = "BUILDPACK-RUNTIME.json"
# A runtime unpacks to ~45-200 MB; anything far beyond is a decompression bomb.
_MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
# A runtime has 2,000-10,000 entries; millions of empty ones are a bomb too
# (tarfile keeps every header in memory while they are checked).
_MAX_MEMBERS = 100_000
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class InstalledRuntime:
    version: str
    home: Path  # the `python/` directory inside the slug

    @property
    def python(self) -> Path:
        return self.home / "bin" / "python"


def archive_cache_path(cache_dir: Path, entry: RuntimeEntry) -> Path:
    return cache_dir / f"{entry.sha256[:16]}-{Path(entry.url).name}"


def fetch_archive(mirror: Mirror, entry: RuntimeEntry, cache_dir: Path,
                  reuse: bool = True) -> tuple[Path, bool]:
    """Return the verified archive path, downloading it unless the cache has it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial_files.remove_abandoned(cache_dir)
    path = archive_cache_path(cache_dir, entry)
    if reuse and path.is_file():
        if file_sha256(path) == entry.sha256:
            return path, True
        output.info("Discarding a corrupt cached runtime archive")
        path.unlink(missing_ok=True)
    mirror.download(entry, path)
    return path, False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def install_runtime(archive: Path, version: str, home: Path) -> InstalledRuntime:
    """Unpack the archive's python/ directory to `home`, replacing what was there."""
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".runtime-", dir=home.parent))
    try:
        extract_safely(archive, staging)
        unpacked = staging / "python"
        if not (unpacked / "bin").is_dir():
            raise errors.archive_corrupt("The archive has no python/bin directory.")
        _repoint_prefix(unpacked, home)
        if home.exists():
            shutil.rmtree(home)
        os.replace(unpacked, home)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _ensure_python_link(home)
    return InstalledRuntime(version=version, home=home)


def trim_for_run_time(home: Path) -> None:
    """Leave out of the slug what only builds need: pip's bytecode (pip runs at
    build time, from the cache layer that keeps it), the C headers, and stdlib
    parts no web app uses."""
    for cache_dir in home.glob("lib/python*/site-packages/pip/**/__pycache__"):
        shutil.rmtree(cache_dir, ignore_errors=True)
    for python2_bytecode in home.glob("lib/python2*/site-packages/pip/**/*.pyc"):
        python2_bytecode.unlink()
    shutil.rmtree(home / "include", ignore_errors=True)
    # Never imported by a web app: IDLE, the turtle demos, venv's bundled pip wheel.
    for unused in ("idlelib", "turtledemo", "ensurepip/_bundled"):
        for path in home.glob(f"lib/python*/{unused}"):
            shutil.rmtree(path, ignore_errors=True)


def _repoint_prefix(unpacked: Path, final_home: Path) -> None:
    metadata_path = unpacked / METADATA_NAME
    if not metadata_path.is_file():
        return
    try:
        original = json.loads(metadata_path.read_text())["original_prefix"]
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.archive_corrupt(f"{METADATA_NAME} is not valid: {exc}") from exc
    relocate.rewrite_prefix(unpacked, str(original), str(final_home))


def _ensure_python_link(home: Path) -> None:
    link = home / "bin" / "python"
    if link.exists():
        return
    for name in ("python3", "python2"):
        if (home / "bin" / name).exists():
            link.symlink_to(name)
            return


def extract_safely(archive: Path, target: Path) -> None:
    """Extract a tar archive, refusing it whole if any entry could write outside
    target. One pass inflates the archive into a plain tar beside target while
    its entries are read (a bomb stops at its first oversized header, before
    its data is written); every entry is checked, and GNU tar then unpacks the
    plain tar (twice as fast as tarfile on thousands of files). Inflating once
    instead of twice takes about 0.4 s off a cold build."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, plain_name = tempfile.mkstemp(prefix=".runtime-", suffix=".tar", dir=target.parent)
    plain = Path(plain_name)
    try:
        with os.fdopen(descriptor, "wb") as plain_file:
            members = _inflate_reading_members(archive, plain_file)
        _check_members(members)
        target.mkdir(parents=True, exist_ok=True)
        _unpack(plain, archive.name, target)
    finally:
        plain.unlink(missing_ok=True)


class _Tee(io.RawIOBase):
    """The inflated archive as tarfile reads it, copied to the plain tar as it goes."""

    def __init__(self, source: BinaryIO, copy: BinaryIO) -> None:
        self.source, self.copy = source, copy

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self.source.read(len(buffer))
        self.copy.write(chunk)
        buffer[:len(chunk)] = chunk
        return len(chunk)


def _inflate_reading_members(archive: Path, plain_file: BinaryIO) -> list[tarfile.TarInfo]:
    try:
        with _open_decompressed(archive) as source:
            tee = _Tee(source, plain_file)
            with tarfile.open(fileobj=tee, mode="r|") as tar:
                members = _read_members(tar)
            while tee.read(_CHUNK):  # the end-of-archive blocks, for GNU tar
                pass
        return members
    except OSError as exc:
        if disk_space.is_disk_full(exc):
            raise errors.disk_full(str(Path(plain_file.name).parent)) from exc
        raise errors.archive_corrupt(f"{archive.name}: {exc}") from exc
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise errors.archive_corrupt(f"{archive.name}: {exc}") from exc


def _open_decompressed(archive: Path) -> BinaryIO:
    with archive.open("rb") as probe:
        magic = probe.read(6)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.open(archive, "rb")  # type: ignore[return-value]
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.open(archive, "rb")  # type: ignore[return-value]
    if magic.startswith(b"BZh"):
        return bz2.open(archive, "rb")  # type: ignore[return-value]
    return archive.open("rb")


def _unpack(plain: Path, archive_name: str, target: Path) -> None:
    try:
        commands.capture(["tar", "--extract", "--file", str(plain), "--directory", str(target),
                          "--no-same-owner", "--no-overwrite-dir"])
    except commands.CommandFailed as failure:
        if disk_space.is_disk_full(failure):
            raise errors.disk_full(str(target)) from failure
        raise errors.archive_corrupt(f"{archive_name}: {' '.join(failure.tail[-2:])}") from failure


def _read_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's entries, read one by one so that an entry bomb or a size
    bomb stops at the header that crosses the limit."""
    members: list[tarfile.TarInfo] = []
    total = 0
    for member in tar:
        if len(members) == _MAX_MEMBERS:
            raise errors.archive_unsafe(member.name, f"the archive has more than {_MAX_MEMBERS} entries")
        total += max(member.size, 0)
        if total > _MAX_UNPACKED_BYTES:
            raise errors.archive_unsafe(member.name, "the archive unpacks to more than 1 GiB")
        members.append(member)
    return members


def _check_members(members: list[tarfile.TarInfo]) -> None:
    symlinks = {_normal(member.name) for member in members if member.issym()}
    for member in members:
        name = member.name
        parts = Path(name).parts
        if name.startswith("/") or ".." in parts:
            raise errors.archive_unsafe(name, "its path leaves the archive's directory")
        if not parts or parts[0] != "python":
            raise errors.archive_unsafe(name, "it is outside the top-level python/ directory")
        _check_not_through_link(name, name, symlinks)
        if member.isdev() or member.isfifo():
            raise errors.archive_unsafe(name, "device files and pipes are not allowed")
        if member.issym() or member.islnk():
            _check_link(member, symlinks)
        if member.mode & (stat.S_ISUID | stat.S_ISGID):
            raise errors.archive_unsafe(name, "set-user-ID and set-group-ID files are not allowed")


def _normal(name: str) -> str:
    return posixpath.normpath(name.rstrip("/"))


def _check_not_through_link(path: str, member_name: str, symlinks: set[str]) -> None:
    """Refuse a path whose directories include a symlink of the archive: each link
    is checked from where it stands, which only holds while no directory on the
    way is itself a link (python/a -> . then python/b -> a/.. would escape)."""
    parent = posixpath.dirname(_normal(path))
    while parent not in ("", "."):
        if parent in symlinks:
            raise errors.archive_unsafe(member_name, f"it passes through the link {parent}")
        parent = posixpath.dirname(parent)


def _check_link(member: tarfile.TarInfo, symlinks: set[str]) -> None:
    link = member.linkname
    if link.startswith("/"):
        raise errors.archive_unsafe(member.name, f"it links to the absolute path {link}")
    if member.islnk() and Path(link).parts[:1] != ("python",):
        raise errors.archive_unsafe(member.name, f"its hard link {link} is outside python/")
    # Symlinks resolve from their own directory, hard links from the archive root.
    base = Path(member.name).parent if member.issym() else Path()
    walked: list[str] = []
    for part in (base / link).parts:
        if walked and "/".join(walked) in symlinks:
            raise errors.archive_unsafe(member.name, f"its link {link} passes through another link")
        if part == "..":
            walked.pop()
        elif part != ".":
            walked.append(part)
        if not walked:
            raise errors.archive_unsafe(member.name, f"its link {link} leaves python/")
