"""The registry client against a scripted registry on 127.0.0.1: retries, auth
challenges, coded errors, chunked uploads; and bin/image's bad-input errors."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import free_port
from image_support import Answer, Script, scripted_registry
from python_buildpack import cli
from python_buildpack.image import base, registry
from python_buildpack.image.blobs import Blob
from python_buildpack.image.reference import parse_reference
from python_buildpack.reporting import errors, output

SECRET = "registry-password-123456"  # noqa: S105 -- a test value


@pytest.fixture
def scripted() -> Iterator[tuple[Script, str]]:
    with scripted_registry() as (script, host):
        yield script, host


_clients: list[registry.Registry] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def client(host: str, environ: dict[str, str] | None = None) -> registry.Registry:
    made = registry.Registry(host, environ or {"HOME": "/nonexistent"}, pushed_to=host, plain_http=True,
                             backoff=0.01)
    _clients.append(made)
    return made


def code_of(action: object) -> str:
    with pytest.raises(errors.BuildpackError) as raised:
        action()  # type: ignore[operator]
    assert SECRET not in f"{raised.value.title} {raised.value.detail} {raised.value.hint}"
    return raised.value.code


MANIFEST = json.dumps({"schemaVersion": 2, "config": {"digest": "sha256:" + "c" * 64, "size": 2},
                       "layers": []}).encode()
OK_MANIFEST: Answer = (200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}, MANIFEST)


def test_5xx_then_success_is_retried(scripted: tuple[Script, str]) -> None:
    script, host = scripted
    script.on("GET", "/v2/base/manifests/", (503, {}, b""), (502, {}, b""), (429, {"Retry-After": "0"}, b""),
              OK_MANIFEST)
    assert client(host).get_manifest("base", "latest", "reading") == (
        "application/vnd.oci.image.manifest.v1+json", MANIFEST)
    assert len(script.seen) == 4


@pytest.mark.parametrize(("status", "code"), [(500, "registry::http-error"), (403, "registry::forbidden"),
                                              (404, "registry::not-found"), (400, "registry::http-error")])
def test_failures_get_codes(scripted: tuple[Script, str], status: int, code: str) -> None:
    script, host = scripted
    script.on("GET", "/v2/", (status, {}, b'{"errors":[{"code":"X","message":"no"}]}'))
    assert code_of(lambda: client(host).get_manifest("base", "latest", "reading the base")) == code


def test_a_registry_that_is_down(tmp_path: Path) -> None:
    assert code_of(lambda: client(f"127.0.0.1:{free_port()}").has_blob("a", "sha256:" + "0" * 64)) == \
        "registry::unreachable"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth_from_the_environment(scripted: tuple[Script, str]) -> None:
    script, host = scripted
    script.on("GET", "/v2/base/manifests/", (401, {"WWW-Authenticate": 'Basic realm="r"'}, b""), OK_MANIFEST)
    env = {"IMAGE_REGISTRY_USERNAME": "me", "IMAGE_REGISTRY_PASSWORD": SECRET, "HOME": "/nonexistent"}
    client(host, env).get_manifest("base", "latest", "reading")
    assert script.seen[-1][2]["Authorization"] == basic("me", SECRET)
    assert SECRET not in output.redact(f"password {SECRET}")


def test_401_without_credentials_and_with_wrong_ones(scripted: tuple[Script, str], tmp_path: Path) -> None:
    script, host = scripted
    script.on("GET", "/v2/", (401, {"WWW-Authenticate": 'Basic realm="r"'}, b""))
    assert code_of(lambda: client(host).get_manifest("base", "latest", "reading")) == "registry::unauthorized"
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"auths": {host: {"auth": base64.b64encode(f"me:{SECRET}".encode()).decode()}}}))
    wrong = client(host, {"DOCKER_CONFIG": str(tmp_path)})
    assert wrong.credentials is not None
    assert wrong.credentials.username == "me"
    assert SECRET not in repr(wrong.credentials)
    assert code_of(lambda: wrong.get_manifest("base", "latest", "reading")) == "registry::unauthorized"


def test_a_broken_credentials_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    assert code_of(lambda: client("127.0.0.1:1", {"DOCKER_CONFIG": str(tmp_path)})) == \
        "registry::bad-credentials-file"


def test_bearer_challenge_and_token(scripted: tuple[Script, str]) -> None:
    script, host = scripted
    challenge = 'Bearer realm="http://HOST/token",service="test-registry",scope="repository:base:pull"'
    script.on("GET", "/v2/base/manifests/", (401, {"WWW-Authenticate": challenge}, b""), OK_MANIFEST)
    script.on("GET", "/token", (200, {}, json.dumps({"token": "a-token-0123456789"}).encode()))
    env = {"IMAGE_REGISTRY_USERNAME": "me", "IMAGE_REGISTRY_PASSWORD": SECRET, "HOME": "/nonexistent"}
    client(host, env).get_manifest("base", "latest", "reading")
    token_request = next(seen for seen in script.seen if seen[1].startswith("/token"))
    assert "scope=repository%3Abase%3Apull" in token_request[1]
    assert "service=test-registry" in token_request[1]
    assert token_request[2]["Authorization"] == basic("me", SECRET)
    assert script.seen[-1][2]["Authorization"] == "Bearer a-token-0123456789"
    assert "a-token-0123456789" not in output.redact("a-token-0123456789")


def test_chunked_upload(scripted: tuple[Script, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script, host = scripted
    monkeypatch.setattr(registry, "CHUNK_SIZE", 1000)
    data = bytes(range(256)) * 10
    path = tmp_path / "blob"
    path.write_bytes(data)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    script.on("POST", "/v2/app/blobs/uploads/", (202, {"Location": "/v2/app/blobs/uploads/u1?_state=x"}, b""))
    script.on("PATCH", "/v2/app/blobs/uploads/u1", (202, {"Location": "/v2/app/blobs/uploads/u1?_state=y"}, b""))
    script.on("PUT", "/v2/app/blobs/uploads/u1", (201, {}, b""))
    client(host).upload_blob("app", Blob("x", digest, len(data), path))
    patches = [seen for seen in script.seen if seen[0] == "PATCH"]
    assert [seen[2]["Content-Range"] for seen in patches] == ["0-999", "1000-1999", "2000-2559"]
    assert b"".join(seen[3] for seen in patches) == data
    final = script.seen[-1]
    assert final[0] == "PUT"
    assert f"digest=sha256%3A{digest[7:]}" in final[1]
    assert "_state=y" in final[1]


def test_mount_declined_is_abandoned(scripted: tuple[Script, str]) -> None:
    script, host = scripted
    script.on("POST", "/v2/app/blobs/uploads/", (202, {"Location": "/v2/app/blobs/uploads/u2"}, b""))
    script.on("DELETE", "/v2/app/blobs/uploads/u2", (204, {}, b""))
    assert client(host).mount_blob("app", "sha256:" + "1" * 64, "base") is False
    assert "mount=sha256%3A" in script.seen[0][1]
    assert script.seen[-1][0] == "DELETE"


def test_base_manifests_that_cannot_be_used(scripted: tuple[Script, str]) -> None:
    script, host = scripted
    reference = parse_reference(f"{host}/base:1")
    script.on("GET", "/v2/base/manifests/", (200, {}, b"not json"))
    assert code_of(lambda: base.resolve_base(client(host), reference, "amd64")) == "registry::bad-manifest"
    index = json.dumps({"manifests": [{"digest": "sha256:" + "2" * 64,
                                       "platform": {"os": "linux", "architecture": "arm64"}}]}).encode()
    script.on("GET", "/v2/base/manifests/", (200, {"Content-Type": "application/vnd.oci.image.index.v1+json"},
                                            index))
    assert code_of(lambda: base.resolve_base(client(host), reference, "amd64")) == "base::wrong-architecture"


# --- bin/image's command line -------------------------------------------------------


def fake_slug(root: Path) -> Path:
    slug = root / "slug"
    (slug / ".lean/python/bin").mkdir(parents=True)
    (slug / "wsgi.py").write_text("application = None\n")
    (slug / "requirements.txt").write_text("")
    (slug / ".lean/build-report.json").write_text(json.dumps({"outcome": "succeeded", "python_version": "3.12.1"}))
    (slug / ".lean/os-needs.json").write_text(json.dumps({"architecture": "amd64", "libraries": {}}))
    return slug


@pytest.mark.parametrize(("arguments", "code"), [
    (["SLUG", "Not/A/Reference"], "image::bad-reference"),
    (["SLUG", "localhost:1/app", "--timezone", "../etc/passwd"], "image::bad-timezone"),
    (["SLUG", "localhost:1/app", "--base", "localhost:PORT/base"], "registry::unreachable"),
    (["NOT-COMPILED", "localhost:1/app"], "image::not-compiled"),
    (["SLUG"], "cli::usage"),
])
def test_bin_image_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str],
                             code: str) -> None:
    slug = fake_slug(tmp_path)
    (tmp_path / "NOT-COMPILED").mkdir()
    args = [arg.replace("SLUG", str(slug)).replace("NOT-COMPILED", str(tmp_path / "NOT-COMPILED"))
            .replace("PORT", str(free_port())) for arg in arguments]
    assert cli.main(["image", *args]) == 1
    stderr = capsys.readouterr().err
    assert f"[{code}]" in stderr
    assert "Traceback" not in stderr
