"""The image's config and manifest (OCI image spec), as canonical JSON.

Everything in them comes from the slug, the base and the options, never from
the clock: `created` is SOURCE_DATE_EPOCH (or the fixed default), so the same
slug gives the same config and manifest digests.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from python_buildpack.image import blobs
from python_buildpack.image.blobs import Blob
from python_buildpack.image.launcher import DEFAULT_PORT, ENTRYPOINT
from python_buildpack.image.layers import APP_GID, APP_UID, Layer

SLUG_PATH = "/app/.lean/python/bin:/app/.lean/system/usr/bin"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
LABEL_PREFIX = "io.leancloud.buildpack."


@dataclass(frozen=True)
class AppFacts:
    """What the image says about the app: from the build report and bin/release."""

    web_command: str
    python_version: str
    buildpack_version: str
    startup_timeout: float
    uses_sdk: bool
    # The Procfile's other process types (worker, release, ...): run them with `--entrypoint`.
    other_processes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ImageOptions:
    timezone: str = "UTC"
    source: str = ""
    revision: str = ""
    version: str = ""


@dataclass(frozen=True)
class BaseImage:
    """The base's config and layers (the layers stay in the registry)."""

    reference: str
    config: dict[str, Any]
    layers: list[Blob]
    digest: str  # of its manifest


def rfc3339(epoch: int) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def labels(facts: AppFacts, options: ImageOptions, epoch: int, base: BaseImage | None) -> dict[str, str]:
    found = {
        "org.opencontainers.image.created": rfc3339(epoch),
        "org.opencontainers.image.source": options.source,
        "org.opencontainers.image.revision": options.revision,
        "org.opencontainers.image.version": options.version,
        "org.opencontainers.image.base.name": base.reference if base else "",
        "org.opencontainers.image.base.digest": base.digest if base else "",
        LABEL_PREFIX + "version": facts.buildpack_version,
        LABEL_PREFIX + "python-version": facts.python_version,
        LABEL_PREFIX + "web-command": facts.web_command,
        LABEL_PREFIX + "startup-timeout": f"{facts.startup_timeout:g}",
        LABEL_PREFIX + "leancloud-sdk": "true" if facts.uses_sdk else "false",
        **{f"{LABEL_PREFIX}process.{name}": command for name, command in facts.other_processes},
    }
    return {name: value for name, value in found.items() if value}


def _environment(base_env: list[str], timezone: str) -> list[str]:
    ours = {
        "PATH": f"{SLUG_PATH}:{SYSTEM_PATH}",
        "HOME": "/app",
        "TZ": timezone,  # visible in `podman inspect`, changed with `-e TZ=Asia/Shanghai`
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
    }
    kept = [entry for entry in base_env if entry.split("=", 1)[0] not in ours]
    return kept + [f"{name}={value}" for name, value in ours.items()]


def image_config(
    facts: AppFacts,
    options: ImageOptions,
    layers: list[Layer],
    *,
    architecture: str,
    epoch: int,
    base: BaseImage | None,
) -> dict[str, Any]:
    base_config: dict[str, Any] = base.config if base else {}
    base_runtime = base_config.get("config") or {}
    created = rfc3339(epoch)
    history = list(base_config.get("history") or [])
    history += [
        {
            "created": created,
            "created_by": f"leanengine-python-buildpack: {layer.name} layer",
            "comment": f"{layer.files} files",
        }
        for layer in layers
    ]
    return {
        "created": created,
        "architecture": architecture,
        "os": "linux",
        "config": {
            "User": f"{APP_UID}:{APP_GID}",
            "WorkingDir": "/app",
            "Env": _environment(list(base_runtime.get("Env") or []), options.timezone),
            "Entrypoint": ENTRYPOINT,
            "ExposedPorts": {f"{DEFAULT_PORT}/tcp": {}},
            "StopSignal": "SIGTERM",
            "Labels": labels(facts, options, epoch, base),
        },
        "rootfs": {
            "type": "layers",
            "diff_ids": list((base_config.get("rootfs") or {}).get("diff_ids") or [])
            + [layer.diff_id for layer in layers],
        },
        "history": history,
    }


@dataclass(frozen=True)
class Image:
    """A built image: every blob it refers to, and its manifest's bytes."""

    config: Blob
    config_bytes: bytes
    layers: list[Blob]  # base layers first
    manifest: bytes
    base: BaseImage | None

    @property
    def digest(self) -> str:
        return blobs.sha256_digest(self.manifest)


def assemble(
    config: dict[str, Any], layers: list[Layer], base: BaseImage | None, annotations: dict[str, str]
) -> Image:
    config_bytes = blobs.canonical_json(config)
    config_blob = Blob(blobs.OCI_CONFIG, blobs.sha256_digest(config_bytes), len(config_bytes))
    all_layers = [
        Blob(blobs.LAYER_TYPES.get(layer.media_type, layer.media_type), layer.digest, layer.size, layer.path)
        for layer in (base.layers if base else [])
    ]
    all_layers += [layer.blob for layer in layers]
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": blobs.OCI_MANIFEST,
        "config": config_blob.descriptor(),
        "layers": [layer.descriptor() for layer in all_layers],
    }
    if annotations:
        manifest["annotations"] = annotations
    return Image(config_blob, config_bytes, all_layers, blobs.canonical_json(manifest), base)
