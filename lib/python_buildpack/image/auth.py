"""Registry credentials and challenges.

Credentials come from IMAGE_REGISTRY_USERNAME / IMAGE_REGISTRY_PASSWORD (for the
registry pushed to), else from the `auths` of the file `podman login` or
`docker login` wrote: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
$DOCKER_CONFIG/config.json (default ~/.docker/config.json). Each value found is
registered as a secret, so output redacts it wherever it would appear.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.image.reference import DOCKER_HUB, DOCKER_HUB_API
from python_buildpack.reporting import errors, output

USERNAME_VARIABLE = "IMAGE_REGISTRY_USERNAME"
PASSWORD_VARIABLE = "IMAGE_REGISTRY_PASSWORD"  # noqa: S105 -- a variable's name, not a password
_CHALLENGE_PARAM = re.compile(r'(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", DOCKER_HUB, DOCKER_HUB_API)


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never shown whole, not even in a traceback
        return f"Credentials(username={self.username!r}, password=[redacted])"

    @property
    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic", lower case
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer realm="https://auth.example/token",service="registry",scope="..."`."""
    scheme, _space, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        match.group(1).lower(): (match.group(2) if match.group(2) is not None else match.group(3)).replace(
            '\\"', '"'
        )
        for match in _CHALLENGE_PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), params)


def _auth_files(environ: Mapping[str, str]) -> list[Path]:
    files = []
    if environ.get("REGISTRY_AUTH_FILE"):
        files.append(Path(environ["REGISTRY_AUTH_FILE"]))
    if environ.get("XDG_RUNTIME_DIR"):
        files.append(Path(environ["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
    docker_config = environ.get("DOCKER_CONFIG") or str(
        Path(environ.get("HOME") or "~").expanduser() / ".docker"
    )
    files.append(Path(docker_config) / "config.json")
    return files


def _keys_for(registry: str) -> tuple[str, ...]:
    if registry in (DOCKER_HUB, DOCKER_HUB_API):
        return _DOCKER_HUB_KEYS
    return (
        registry,
        f"https://{registry}",
        f"http://{registry}",
        f"https://{registry}/v1/",
        f"https://{registry}/v2/",
    )


def _from_entry(entry: object, path: Path) -> Credentials | None:
    if not isinstance(entry, dict):
        raise errors.registry_bad_credentials_file(str(path), "an `auths` entry is not a mapping")
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            username, _colon, password = (
                base64.b64decode(entry["auth"], validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise errors.registry_bad_credentials_file(
                str(path), "an `auth` value is not base64 of user:password"
            ) from exc
        return Credentials(username, password)
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
        return Credentials(entry["username"], entry["password"])
    return None


def _from_file(path: Path, registry: str) -> Credentials | None:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise errors.registry_bad_credentials_file(
            str(path), f"not readable JSON ({type(exc).__name__})"
        ) from exc
    auths = document.get("auths") if isinstance(document, dict) else None
    if not isinstance(auths, dict):
        return None
    for key in _keys_for(registry):
        if key in auths:
            return _from_entry(auths[key], path)
    return None


def find_credentials(registry: str, environ: Mapping[str, str], pushed_to: str) -> Credentials | None:
    found: Credentials | None = None
    if registry == pushed_to and environ.get(USERNAME_VARIABLE) and environ.get(PASSWORD_VARIABLE):
        found = Credentials(environ[USERNAME_VARIABLE], environ[PASSWORD_VARIABLE])
    for path in _auth_files(environ) if found is None else []:
        found = _from_file(path, registry)
        if found is not None:
            break
    if found is not None:
        output.register_secrets([found.password, found.basic, found.basic.split(" ", 1)[1]])
    return found
