"""Image references: ``[REGISTRY/]REPOSITORY[:TAG][@DIGEST]``, Docker's rules.

The first path component is a registry when it has a dot or a port, or is
``localhost``; otherwise the image is on Docker Hub, and a single-component
name is under ``library/``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from python_buildpack.reporting import errors

DOCKER_HUB = "docker.io"
DOCKER_HUB_API = "registry-1.docker.io"
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}\Z")
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?)+(?::[0-9]{1,5})?\Z|\[[0-9a-fA-F:]+\](?::[0-9]{1,5})?\Z"
)
_MAX_LENGTH = 255


@dataclass(frozen=True)
class Reference:
    registry: str  # as written (docker.io for Docker Hub)
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def api_host(self) -> str:
        return DOCKER_HUB_API if self.registry == DOCKER_HUB else self.registry

    @property
    def identifier(self) -> str:
        """What the manifest is addressed by: the digest, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.registry)

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.registry, self.repository, None, digest)


def is_loopback_host(registry: str) -> bool:
    host = registry.rsplit(":", 1)[0] if not registry.endswith("]") else registry
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_reference(text: str) -> Reference:
    if not text or len(text) > _MAX_LENGTH:
        raise errors.image_bad_reference(text, "it is empty or longer than 255 characters")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.match(digest):
            raise errors.image_bad_reference(text, "the digest must be sha256: and 64 hex digits")
    registry, path = DOCKER_HUB, rest
    first, _slash, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        if not _HOST.match(first):
            raise errors.image_bad_reference(text, f"{errors.visible(first)} is not a registry host")
        registry, path = first, remainder
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
        if not _TAG.match(tag):
            raise errors.image_bad_reference(text, "a tag has up to 128 letters, digits, '_', '.', '-'")
    components = path.split("/")
    if not all(_COMPONENT.match(component) for component in components):
        raise errors.image_bad_reference(
            text, "repository names are lower-case letters, digits and single separators ('.', '_', '-')"
        )
    if registry == DOCKER_HUB and len(components) == 1:
        path = f"library/{path}"
    if tag is None and digest is None:
        tag = "latest"
    return Reference(registry, path, tag, digest)
