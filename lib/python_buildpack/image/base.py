"""The base image: its manifest and config from its registry, the list of its
files, and the check that it can run the slug.

The file list is read from the layers as they stream in, through gzip and tar,
without unpacking anything to disk, and kept per base digest (in the user's
cache directory) so the next push reads nothing. Entries are held to the rules
used for runtime archives, adapted to a root filesystem: a name that is
absolute or has `..`, or a hard link to such a path, refuses the base. Symbolic
links may be absolute (`/lib -> usr/lib` is normal in a base): a container
resolves them inside the image, and nothing here follows them on the host.
Whiteouts (`.wh.NAME`, `.wh..wh..opq`) remove what lower layers had.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_buildpack.image import blobs
from python_buildpack.image.blobs import Blob, ChunkReader
from python_buildpack.image.config import BaseImage
from python_buildpack.image.reference import Reference
from python_buildpack.image.registry import Registry
from python_buildpack.reporting import errors
from python_buildpack.support import partial_files

# The default base: the build image's distribution (Debian bookworm), slim, on
# every public registry's mirror of Docker Hub's official images. Pinned to the
# release, not the point release, so security updates come with each push.
DEFAULT_BASE = "docker.io/library/debian:bookworm-slim"
_MAX_ENTRIES = 1_000_000
_MAX_STATUS_BYTES = 32 * 1024 * 1024
_LIBRARY_DIRS = re.compile(r"\A(?:usr/)?(?:local/)?lib(?:64|/[a-z0-9_]+-linux-gnu[a-z0-9_]*)?\Z")
_LIBC_FILE = re.compile(r"\Alibc-(\d+\.\d+)\.so\Z")
_DPKG_STATUS = re.compile(r"\Avar/lib/dpkg/status(?:\.d/[^/]+)?\Z")
_INDEX_TYPES = (blobs.OCI_INDEX, blobs.DOCKER_MANIFEST_LIST)


@dataclass(frozen=True)
class BaseFiles:
    libraries: frozenset[str]  # file names in the library directories
    glibc: str | None
    has_bash: bool


def resolve_base(client: Registry, reference: Reference, architecture: str) -> BaseImage:
    what = f"reading the base image {reference}"
    media_type, body = client.get_manifest(reference.repository, reference.identifier, what)
    document = _json(body, str(reference), "its manifest")
    if media_type in _INDEX_TYPES or "manifests" in document:
        digest = _pick_platform(document, str(reference), architecture)
        media_type, body = client.get_manifest(reference.repository, digest, what)
        document = _json(body, str(reference), "its manifest")
    if not isinstance(document.get("config"), dict) or not isinstance(document.get("layers"), list):
        raise errors.registry_bad_manifest(
            str(reference), f"a manifest of type {media_type or 'unknown'} without config and layers"
        )
    try:
        layers = [
            Blob(str(layer["mediaType"]), str(layer["digest"]), int(layer["size"]))
            for layer in document["layers"]
        ]
        config_digest = str(document["config"]["digest"])
    except (KeyError, TypeError, ValueError) as exc:
        raise errors.registry_bad_manifest(str(reference), f"a layer or the config lacks {exc}") from exc
    for layer in layers:
        if layer.media_type not in blobs.LAYER_TYPES:
            raise errors.registry_bad_manifest(str(reference), f"a layer of type {layer.media_type}")
    config = _json(client.get_blob(reference.repository, config_digest, what), str(reference), "its config")
    found = str(config.get("architecture", "unknown"))
    if found != architecture:
        raise errors.base_wrong_architecture(str(reference), found, architecture)
    return BaseImage(str(reference), config, layers, blobs.sha256_digest(body))


def _json(body: bytes, reference: str, what: str) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise errors.registry_bad_manifest(reference, f"{what} is not JSON") from exc
    if not isinstance(document, dict):
        raise errors.registry_bad_manifest(reference, f"{what} is not a JSON object")
    return document


def _pick_platform(index: dict[str, Any], reference: str, architecture: str) -> str:
    found = []
    for entry in index.get("manifests") or []:
        platform = entry.get("platform") or {} if isinstance(entry, dict) else {}
        found.append(str(platform.get("architecture")))
        if platform.get("os") == "linux" and platform.get("architecture") == architecture:
            return str(entry["digest"])
    raise errors.base_wrong_architecture(reference, "/".join(sorted(set(found))) or "none", architecture)


# --- the file list ----------------------------------------------------------------


def _clean_name(base: str, name: str) -> str:
    normal = name[2:] if name.startswith("./") else name
    normal = normal.rstrip("/")
    if normal.startswith("/") or ".." in normal.split("/"):
        raise errors.base_unsafe_layer(base, name, "its path leaves the image's root")
    return posixpath.normpath(normal) if normal else "."


def _check_entry(base: str, member: tarfile.TarInfo) -> None:
    if member.islnk():
        target = member.linkname
        if target.startswith("/") or ".." in target.split("/"):
            raise errors.base_unsafe_layer(
                base, member.name, f"its hard link to {target} leaves the image's root"
            )


class _Listing:
    def __init__(self, base: str) -> None:
        self.base = base
        self.paths: set[str] = set()
        self.status_files: dict[str, bytes] = {}
        self.entries = 0

    def add_layer(self, tar: tarfile.TarFile) -> None:
        for member in tar:
            self.entries += 1
            if self.entries > _MAX_ENTRIES:
                raise errors.base_unsafe_layer(
                    self.base, member.name, f"the base has more than {_MAX_ENTRIES} entries"
                )
            name = _clean_name(self.base, member.name)
            _check_entry(self.base, member)
            directory, leaf = posixpath.split(name)
            if leaf == ".wh..wh..opq":
                self.paths = {path for path in self.paths if not path.startswith(directory + "/")}
            elif leaf.startswith(".wh."):
                gone = posixpath.join(directory, leaf[4:])
                self.paths = {path for path in self.paths if path != gone and not path.startswith(gone + "/")}
            else:
                self.paths.add(name)
                if member.isfile() and _DPKG_STATUS.match(name) and member.size <= _MAX_STATUS_BYTES:
                    handle = tar.extractfile(member)
                    self.status_files[name] = handle.read() if handle else b""

    def result(self) -> BaseFiles:
        libraries = frozenset(
            posixpath.basename(path) for path in self.paths if _LIBRARY_DIRS.match(posixpath.dirname(path))
        )
        glibc = None
        for text in self.status_files.values():
            glibc = glibc or _libc6_version(text.decode("utf-8", "replace"))
        for library in libraries:
            match = _LIBC_FILE.match(library)
            glibc = glibc or (match.group(1) if match else None)
        has_bash = bool({"bin/bash", "usr/bin/bash"} & self.paths)
        return BaseFiles(libraries, glibc, has_bash)


def _libc6_version(status: str) -> str | None:
    for stanza in status.split("\n\n"):
        if re.search(r"^Package: libc6$", stanza, re.MULTILINE):
            match = re.search(r"^Version: (\d+\.\d+)", stanza, re.MULTILINE)
            if match:
                return match.group(1)
    return None


def list_files(base: BaseImage, layers: Iterator[Iterator[bytes]]) -> BaseFiles:
    """The base's files (what matters of them), from its layers' streams, lowest first."""
    listing = _Listing(base.reference)
    for chunks in layers:
        try:
            with tarfile.open(fileobj=io.BufferedReader(ChunkReader(chunks), 1 << 20), mode="r|*") as tar:
                listing.add_layer(tar)
        except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
            raise errors.base_unsafe_layer(
                base.reference, "(a layer)", f"it cannot be read as a tar archive ({type(exc).__name__})"
            ) from exc
    return listing.result()


def _cache_path(environ: Mapping[str, str], digest: str) -> Path:
    root = Path(environ.get("XDG_CACHE_HOME") or Path(environ.get("HOME") or "~").expanduser() / ".cache")
    return root / "leanengine-python-buildpack" / "base-files" / f"{digest.split(':', 1)[-1]}.json"


def base_files(
    client: Registry, reference: Reference, base: BaseImage, environ: Mapping[str, str]
) -> tuple[BaseFiles, bool]:
    """The base's file list, from the cache when this base was read before; and
    whether it came from the cache."""
    cached = _cache_path(environ, base.digest)
    try:
        found = json.loads(cached.read_text())
        return BaseFiles(frozenset(found["libraries"]), found["glibc"], bool(found["has_bash"])), True
    except (OSError, ValueError, KeyError, TypeError):
        pass
    files = list_files(
        base,
        (
            client.stream_blob(
                reference.repository, layer.digest, f"reading the base's layer {layer.digest[:19]}"
            )
            for layer in base.layers
        ),
    )
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial_files.write_json_atomically(
            cached, {"libraries": sorted(files.libraries), "glibc": files.glibc, "has_bash": files.has_bash}
        )
    except OSError:
        pass  # only a cache
    return files, False


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


def check_base(reference: str, files: BaseFiles, needs: Mapping[str, Any]) -> list[str]:
    """Refuse a base that cannot run the slug; returns notices for what could not be checked."""
    notices = []
    libraries: dict[str, str] = dict(needs.get("libraries") or {})
    if not files.has_bash:
        libraries.setdefault("bash", "bash")
    missing = {
        name: package
        for name, package in libraries.items()
        if name not in files.libraries and not (name == "bash" and files.has_bash)
    }
    if missing:
        raise errors.base_missing_libraries(reference, missing)
    optional = sorted(name for name in needs.get("optional_libraries") or {} if name not in files.libraries)
    if optional:
        notices.append(
            f"Without {', '.join(optional)}: standard modules that need them (tkinter, readline,"
            " curses, nis, dbm) cannot be imported; web apps seldom do"
        )
    wanted = needs.get("glibc")
    if wanted and files.glibc is None:
        notices.append(f"The base's glibc version is unknown (no dpkg status); the slug needs {wanted}+")
    elif wanted and _version_tuple(files.glibc or "0") < _version_tuple(str(wanted)):
        raise errors.base_old_glibc(reference, files.glibc or "?", str(wanted))
    return notices
