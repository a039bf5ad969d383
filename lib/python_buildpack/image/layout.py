"""Two publishers that need no registry: an OCI image layout directory, and a
tarball that both `docker load` and `podman load` read (an OCI layout with
Docker's `manifest.json` beside it, as `docker save` writes since Docker 25).

Base layers are not on disk: `fetch` streams them from the base's registry.
Every file is written beside its name and renamed into place.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from python_buildpack.image import blobs
from python_buildpack.image.blobs import Blob, ChunkReader, HashingWriter
from python_buildpack.image.config import Image
from python_buildpack.support import partial_files

BlobSource = Callable[[Blob], Iterator[bytes]]
REF_NAME = "org.opencontainers.image.ref.name"
_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'


def _blob_name(digest: str) -> str:
    algorithm, hex_digest = digest.split(":", 1)
    return f"blobs/{algorithm}/{hex_digest}"


def _chunks_of(blob: Blob, fetch: BlobSource) -> Iterator[bytes]:
    if blob.path is None:
        yield from fetch(blob)
        return
    with open(blob.path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


def _write_blob(directory: Path, digest: str, chunks: Iterator[bytes] | bytes) -> None:
    target = directory / _blob_name(digest)
    if target.is_file():
        return  # content-addressed: already there
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_files.partial_path(target)
    try:
        with open(partial, "wb") as handle:
            writer = HashingWriter(handle)
            for chunk in [chunks] if isinstance(chunks, bytes) else chunks:
                writer.write(chunk)
        if writer.digest != digest:
            raise OSError(f"blob {digest} arrived as {writer.digest}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _index_entry(image: Image, ref_name: str) -> dict[str, Any]:
    return {
        "mediaType": blobs.OCI_MANIFEST,
        "digest": image.digest,
        "size": len(image.manifest),
        "annotations": {REF_NAME: ref_name},
    }


def write_oci_layout(image: Image, directory: Path, ref_name: str, fetch: BlobSource) -> None:
    """Add the image to an OCI layout directory (created when missing), tagged ref_name."""
    directory.mkdir(parents=True, exist_ok=True)
    partial_files.remove_abandoned(directory)
    for blob in image.layers:
        _write_blob(directory, blob.digest, _chunks_of(blob, fetch))
    _write_blob(directory, image.config.digest, image.config_bytes)
    _write_blob(directory, image.digest, image.manifest)
    (directory / "oci-layout").write_bytes(_LAYOUT)
    index_path = directory / "index.json"
    try:
        index = json.loads(index_path.read_text())
        kept = [
            entry
            for entry in index.get("manifests", [])
            if (entry.get("annotations") or {}).get(REF_NAME) != ref_name
        ]
    except (OSError, ValueError, AttributeError):
        kept = []
    index = {
        "schemaVersion": 2,
        "mediaType": blobs.OCI_INDEX,
        "manifests": [*kept, _index_entry(image, ref_name)],
    }
    partial = partial_files.partial_path(index_path)
    partial.write_bytes(json.dumps(index, indent=1, sort_keys=True).encode())
    os.replace(partial, index_path)


def _tar_member(tar: tarfile.TarFile, name: str, data: bytes, epoch: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), epoch, 0o644
    tar.addfile(info, io.BytesIO(data))


def write_tarball(
    image: Image, target: Path, reference: str, *, ref_name: str, epoch: int, fetch: BlobSource
) -> None:
    """A `docker load` / `podman load` archive of the image, tagged reference."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_files.partial_path(target)
    docker_manifest = [
        {
            "Config": _blob_name(image.config.digest),
            "RepoTags": [reference],
            "Layers": [_blob_name(blob.digest) for blob in image.layers],
        }
    ]
    index = {
        "schemaVersion": 2,
        "mediaType": blobs.OCI_INDEX,
        "manifests": [
            {
                **_index_entry(image, ref_name),
                "annotations": {REF_NAME: ref_name, "io.containerd.image.name": reference},
            }
        ],
    }
    try:
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            _tar_member(tar, "oci-layout", _LAYOUT, epoch)
            _tar_member(tar, "index.json", blobs.canonical_json(index), epoch)
            _tar_member(tar, "manifest.json", blobs.canonical_json(docker_manifest), epoch)
            written: set[str] = set()
            for blob in image.layers:
                if blob.digest in written:
                    continue
                written.add(blob.digest)
                info = tarfile.TarInfo(_blob_name(blob.digest))
                info.size, info.mtime, info.mode = blob.size, epoch, 0o644
                tar.addfile(info, io.BufferedReader(ChunkReader(_chunks_of(blob, fetch))))
            _tar_member(tar, _blob_name(image.config.digest), image.config_bytes, epoch)
            _tar_member(tar, _blob_name(image.digest), image.manifest, epoch)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
