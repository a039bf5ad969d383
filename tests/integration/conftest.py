"""Session fixtures of the bin/image tests: one registry with htpasswd auth and
the base image pushed to it, one podman store; all stopped and removed at the end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import RuntimeMirror, compile_app, copy_fixture
from image_support import (
    BASE_REPOSITORY,
    Podman,
    Registry,
    base_rootfs,
    gzip_file,
    htpasswd_auth,
    podman_for,
    registry,
    tools_available,
    upload_image,
)


@pytest.fixture(scope="session")
def base_layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mmdebstrap base rootfs, gzipped (cached tar: about 80 s the first time)."""
    tools_available("docker-registry", "mmdebstrap", "htpasswd")
    target = tmp_path_factory.mktemp("base") / "rootfs.tar.gz"
    gzip_file(base_rootfs(), target)
    return target


@pytest.fixture(scope="session")
def image_registry(tmp_path_factory: pytest.TempPathFactory, base_layer: Path) -> Iterator[Registry]:
    """docker-registry on 127.0.0.1 with htpasswd Basic auth, holding the base image."""
    directory = tmp_path_factory.mktemp("registry")
    with registry(directory, htpasswd_auth(directory)) as running:
        upload_image(running.host, BASE_REPOSITORY, "latest", base_layer)
        yield running


@pytest.fixture(scope="session")
def podman(tmp_path_factory: pytest.TempPathFactory, image_registry: Registry) -> Iterator[Podman]:
    tools_available("podman", "runc", "skopeo")
    engine = podman_for(tmp_path_factory.mktemp("podman"), image_registry.host)
    try:
        yield engine
    finally:
        engine.run("rm", "--all", "--force", "--time", "0", check=False)
        engine.run("rmi", "--all", "--force", check=False)


@pytest.fixture(scope="session")
def flask_slug(runtime_mirror: RuntimeMirror, shared_cache: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Path:
    """fixtures/flask-app compiled once (Python 3.12) for the image tests."""
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path_factory.mktemp("flask"))
    result = compile_app(runtime_mirror.url, app, shared_cache)
    assert result.returncode == 0, result.output
    assert json.loads((app / ".lean/os-needs.json").read_text())["libraries"]["libssl.so.3"] == "libssl3"
    return app
