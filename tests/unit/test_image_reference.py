"""Image references, Docker's rules, as tables."""

from __future__ import annotations

import pytest
from python_buildpack.image.options import parse_arguments
from python_buildpack.image.reference import is_loopback_host, parse_reference
from python_buildpack.reporting import errors


@pytest.mark.parametrize(("text", "registry", "repository", "tag", "digest"), [
    ("debian", "docker.io", "library/debian", "latest", None),
    ("debian:bookworm-slim", "docker.io", "library/debian", "bookworm-slim", None),
    ("acme/web:1.4", "docker.io", "acme/web", "1.4", None),
    ("ghcr.io/acme/web:1.4", "ghcr.io", "acme/web", "1.4", None),
    ("localhost:5000/web", "localhost:5000", "web", "latest", None),
    ("localhost/web", "localhost", "web", "latest", None),
    ("127.0.0.1:5000/a/b/c:v_1.0-x", "127.0.0.1:5000", "a/b/c", "v_1.0-x", None),
    ("registry.example.com/web@sha256:" + "a" * 64, "registry.example.com", "web", None, "sha256:" + "a" * 64),
    ("registry.example.com/web:1@sha256:" + "b" * 64, "registry.example.com", "web", "1", "sha256:" + "b" * 64),
])
def test_parse_reference(text: str, registry: str, repository: str, tag: str | None, digest: str | None) -> None:
    reference = parse_reference(text)
    assert (reference.registry, reference.repository, reference.tag, reference.digest) == (
        registry, repository, tag, digest)


@pytest.mark.parametrize("text", [
    "", "Web", "web:", "ghcr.io/Acme/web", "web:tag with space", "web@sha256:short", "web@md5:" + "a" * 32,
    "ghcr.io/acme//web", "-web", "web:" + "x" * 129, "a" * 256, "ghcr.io/acme/web:1:2", "web..x",
])
def test_malformed_references_are_refused(text: str) -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        parse_reference(text)
    assert raised.value.code == "image::bad-reference"


def test_docker_hub_is_spoken_to_at_its_api_host() -> None:
    assert parse_reference("debian").api_host == "registry-1.docker.io"
    assert parse_reference("ghcr.io/a/b").api_host == "ghcr.io"


@pytest.mark.parametrize(("host", "loopback"), [
    ("localhost", True), ("localhost:5000", True), ("127.0.0.1:5000", True), ("127.8.9.1", True),
    ("[::1]:5000", True), ("ghcr.io", False), ("10.0.0.1:5000", False), ("localhost.example.com", False),
])
def test_only_loopback_registries_get_plain_http(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_arguments() -> None:
    parsed = parse_arguments(["app", "ghcr.io/a/b:1", "--base", "debian:bookworm-slim", "--oci-layout=out",
                              "--plain-http", "--timezone", "Asia/Shanghai"])
    assert (parsed.build_dir, parsed.image_ref, parsed.base, parsed.oci_layout) == (
        "app", "ghcr.io/a/b:1", "debian:bookworm-slim", "out")
    assert parsed.plain_http
    assert parsed.timezone == "Asia/Shanghai"
    assert not parsed.pushes


@pytest.mark.parametrize("args", [[], ["app"], ["app", "ref", "extra"], ["app", "ref", "--base"],
                                  ["app", "ref", "--frobnicate"], ["app", "ref", "--tarball="]])
def test_bad_arguments_are_usage_errors(args: list[str]) -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        parse_arguments(args)
    assert raised.value.code == "cli::usage"
