"""Reproducible layers from a compiled slug, ordered by how often they change.

1. runtime: `.lean/python` (CPython and the app's packages) and `.lean/system`;
2. app: every other file of the slug;
3. launch: the init and the launcher (`launcher.py`).

The same slug gives the same bytes (Jib's rules): entries sorted by name, every
owner uid/gid 1000 without names, modes reduced to 0755/0644, every mtime the
same (SOURCE_DATE_EPOCH, else 1980-01-01), hard links stored as files, PAX
format, gzip without a name or timestamp. Bytecode is rewritten so it stays
valid under the normalised mtimes (`bytecode.py`). The slug is only read.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.image import blobs, bytecode
from python_buildpack.image.blobs import Blob, HashingWriter

APP_ROOT = "app"  # the slug is /app in the image
APP_UID = APP_GID = 1000
DEFAULT_EPOCH = 315532800  # 1980-01-01T00:00:00Z, as Jib and the zip format use
RUNTIME_DIRS = (".lean/python", ".lean/system")
IMAGE_DIR = ".lean/image"  # the launch layer's files
_COMPRESS_LEVEL = 1  # as go-containerregistry (ko's library) does: the push is the slow part


@dataclass(frozen=True)
class LaunchFile:
    path: str  # relative to the slug root
    data: bytes
    executable: bool


@dataclass(frozen=True)
class Layer:
    name: str
    blob: Blob
    diff_id: str  # sha256 of the uncompressed tar, as the config lists it
    files: int


def source_date_epoch(environ: dict[str, str] | os._Environ[str]) -> int:
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    return int(value) if value.isdigit() else DEFAULT_EPOCH


def _directory_info(name: str, epoch: int, owner: int = APP_UID) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return _owned(info, epoch, owner)


def _owned(info: tarfile.TarInfo, epoch: int, owner: int = APP_UID) -> tarfile.TarInfo:
    info.uid, info.gid, info.uname, info.gname, info.mtime = owner, owner, "", "", epoch
    return info


def _walk(root: Path, relative: str, layer: str) -> Iterator[str]:
    """The layer's slug paths under `relative`, sorted by name (bytewise, as the
    names are), directories before their contents."""
    with os.scandir(root / relative if relative else root) as entries:
        found = sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries)
    for name, is_directory in found:
        path = f"{relative}/{name}" if relative else name
        if not _selected(path, layer):
            continue
        yield path
        if is_directory:
            yield from _walk(root, path, layer)


def _in_runtime(path: str) -> bool:
    return any(path == top or path.startswith(top + "/") for top in RUNTIME_DIRS)


def _selected(path: str, layer: str) -> bool:
    if path.endswith("/__pycache__") or path == "__pycache__":
        return "/site-packages/" in path  # see _add_slug_entry
    if path == IMAGE_DIR or path.startswith(IMAGE_DIR + "/"):
        return False  # a stale launch directory in the slug: the launch layer has its own
    if layer == "runtime":
        return _in_runtime(path) or any(top.startswith(path + "/") for top in RUNTIME_DIRS)
    return not _in_runtime(path)


class _LayerWriter:
    def __init__(self, target: Path, epoch: int, owner: int = APP_UID) -> None:
        self.epoch = epoch
        self.owner = owner
        self.handle = open(target, "wb")  # noqa: SIM115 -- closed in close()
        self.compressed = HashingWriter(self.handle)
        self.gzip = gzip.GzipFile(
            filename="",
            mode="wb",
            fileobj=self.compressed,
            mtime=0,
            compresslevel=_COMPRESS_LEVEL,
        )
        self.uncompressed = HashingWriter(self.gzip)  # type: ignore[arg-type]
        self.tar = tarfile.open(  # noqa: SIM115 -- closed in close()
            fileobj=self.uncompressed,  # type: ignore[call-overload]
            mode="w|",
            format=tarfile.PAX_FORMAT,
        )
        self.files = 0

    def directory(self, name: str) -> None:
        self.tar.addfile(_directory_info(name, self.epoch, self.owner))

    def file(self, name: str, data: bytes, executable: bool) -> None:
        info = _owned(tarfile.TarInfo(name), self.epoch, self.owner)
        info.size, info.mode = len(data), 0o755 if executable else 0o644
        self.tar.addfile(info, io.BytesIO(data))
        self.files += 1

    def stream(self, name: str, path: Path, size: int, executable: bool) -> None:
        info = _owned(tarfile.TarInfo(name), self.epoch, self.owner)
        info.size, info.mode = size, 0o755 if executable else 0o644
        with open(path, "rb") as handle:
            self.tar.addfile(info, handle)
        self.files += 1

    def symlink(self, name: str, target: str) -> None:
        info = _owned(tarfile.TarInfo(name), self.epoch, self.owner)
        info.type, info.linkname, info.mode = tarfile.SYMTYPE, target, 0o777
        self.tar.addfile(info)
        self.files += 1

    def close(self) -> tuple[str, str, int]:
        self.tar.close()
        self.gzip.close()
        self.handle.close()
        return self.compressed.digest, self.uncompressed.digest, self.compressed.size


def _add_slug_entry(writer: _LayerWriter, slug: Path, path: str) -> None:
    full = slug / path
    status = full.lstat()
    name = f"{APP_ROOT}/{path}"
    if stat.S_ISLNK(status.st_mode):
        writer.symlink(name, os.readlink(full))
    elif stat.S_ISDIR(status.st_mode):
        writer.directory(name)
    elif stat.S_ISREG(status.st_mode):
        executable = bool(status.st_mode & 0o111)
        if path.endswith(".pyc"):
            if is_runtime_bytecode(path):
                _add_bytecode(writer, full, name, executable)
        else:
            writer.stream(name, full, status.st_size, executable)
    # Sockets, pipes and devices have no place in an image: left out.


def is_runtime_bytecode(path: str) -> bool:
    """Bytecode the runtime archive (the standard library) or the installer
    (site-packages) wrote, the same in every build of the same app. Any other
    was written by a run of the app (the smoke check, which a rebuild may
    skip), as was `_sysconfigdata`'s: the archive leaves it out, since
    relocation rewrites its source."""
    return path.startswith(f"{RUNTIME_DIRS[0]}/lib/") and "/_sysconfigdata" not in path


def _add_bytecode(writer: _LayerWriter, full: Path, name: str, executable: bool) -> None:
    source = bytecode.source_of(full)
    data = full.read_bytes()
    if source is None or not source.is_file():
        writer.file(name, data, executable)  # sourceless bytecode is loaded as it is
        return
    normalised = bytecode.normalise(data, source.read_bytes(), int(source.stat().st_mtime), writer.epoch)
    if normalised is not None:
        writer.file(name, normalised, executable)


def slug_entries(slug: Path, layer: str) -> list[str]:
    """The slug paths the layer holds, in their order in it."""
    return list(_walk(slug, "", layer))


def write_slug_layer(slug: Path, layer: str, target: Path, epoch: int) -> Layer:
    """The runtime or app layer of the slug, written to target (a .tar.gz)."""
    writer = _LayerWriter(target, epoch)
    try:
        writer.directory(APP_ROOT)
        for path in _walk(slug, "", layer):
            _add_slug_entry(writer, slug, path)
    finally:
        compressed, uncompressed, size = writer.close()
    return Layer(layer, Blob(blobs.OCI_LAYER_GZIP, compressed, size, target), uncompressed, writer.files)


def write_launch_layer(files: list[LaunchFile], target: Path, epoch: int) -> Layer:
    writer = _LayerWriter(target, epoch)
    try:
        directories = {APP_ROOT}
        for launch_file in files:
            parts = f"{APP_ROOT}/{launch_file.path}".split("/")
            directories.update("/".join(parts[:index]) for index in range(1, len(parts)))
        for directory in sorted(directories):
            writer.directory(directory)
        for launch_file in sorted(files, key=lambda item: item.path):
            writer.file(f"{APP_ROOT}/{launch_file.path}", launch_file.data, launch_file.executable)
    finally:
        compressed, uncompressed, size = writer.close()
    return Layer("launch", Blob(blobs.OCI_LAYER_GZIP, compressed, size, target), uncompressed, writer.files)


def write_tree_layer(root: Path, prefix: str, target: Path, epoch: int, name: str) -> Layer:
    """A directory tree as one layer under `prefix` (e.g. a buildpackage's
    /cnb/buildpacks/<id>/<version>), by the same rules, owned by root: what an
    image ships for its users to run, not to write."""
    writer = _LayerWriter(target, epoch, owner=0)
    try:
        parts = prefix.split("/")
        for index in range(1, len(parts) + 1):
            writer.directory("/".join(parts[:index]))
        for path in _walk_tree(root, ""):
            _add_tree_entry(writer, root / path, f"{prefix}/{path}")
    finally:
        compressed, uncompressed, size = writer.close()
    return Layer(name, Blob(blobs.OCI_LAYER_GZIP, compressed, size, target), uncompressed, writer.files)


def _walk_tree(root: Path, relative: str) -> Iterator[str]:
    with os.scandir(root / relative if relative else root) as entries:
        found = sorted((entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries)
    for entry_name, is_directory in found:
        path = f"{relative}/{entry_name}" if relative else entry_name
        yield path
        if is_directory:
            yield from _walk_tree(root, path)


def _add_tree_entry(writer: _LayerWriter, full: Path, name: str) -> None:
    status = full.lstat()
    if stat.S_ISLNK(status.st_mode):
        writer.symlink(name, os.readlink(full))
    elif stat.S_ISDIR(status.st_mode):
        writer.directory(name)
    elif stat.S_ISREG(status.st_mode):
        writer.stream(name, full, status.st_size, bool(status.st_mode & 0o111))
