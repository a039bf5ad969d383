"""bin/image on bad input, against the real registry: a clear coded message, exit 1,
no traceback, and the credentials in no output or log. Also token auth (a token
endpoint of our own in front of the registry)."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from helpers import Result, assert_user_error, free_port, host_environment, run_bin
from image_support import (
    BASE_REPOSITORY,
    PASSWORD,
    USER,
    Registry,
    TokenService,
    bin_image,
    drop_members,
    gzip_file,
    image_env,
    registry,
    upload_image,
)

pytestmark = pytest.mark.integration


def image(slug: Path, reference: str, *args: str, env: dict[str, str] | None = None) -> Result:
    result = run_bin("image", slug, reference, *args, env=env or image_env())
    assert PASSWORD not in result.output
    return result


def test_registry_down_401_and_404(flask_slug: Path, image_registry: Registry) -> None:
    down = f"127.0.0.1:{free_port()}"
    assert_user_error(image(flask_slug, f"{down}/app", "--base", f"{down}/base"), "registry::unreachable",
                      "connection refused")
    wrong = host_environment(IMAGE_REGISTRY_USERNAME=USER, IMAGE_REGISTRY_PASSWORD="not-" + PASSWORD)
    result = image(flask_slug, f"{image_registry.host}/app", "--base", f"{image_registry.host}/{BASE_REPOSITORY}",
                   env=wrong)
    assert_user_error(result, "registry::unauthorized", "The credentials found were refused")
    assert "not-" + PASSWORD not in result.output
    anonymous = host_environment(HOME="/nonexistent", DOCKER_CONFIG="/nonexistent")
    assert_user_error(image(flask_slug, f"{image_registry.host}/app", "--base",
                            f"{image_registry.host}/{BASE_REPOSITORY}", env=anonymous),
                      "registry::unauthorized", "No credentials were found")
    assert_user_error(image(flask_slug, f"{image_registry.host}/app", "--base", f"{image_registry.host}/no/such"),
                      "registry::not-found")
    assert_user_error(image(flask_slug, "LOUD/app"), "image::bad-reference")
    assert PASSWORD not in image_registry.log.read_text(errors="replace")


def test_bases_that_cannot_run_the_slug(flask_slug: Path, image_registry: Registry, base_layer: Path,
                                        tmp_path: Path) -> None:
    from image_support import base_rootfs  # noqa: PLC0415

    no_ssl = tmp_path / "no-ssl.tar"
    drop_members(base_rootfs(), no_ssl, {"usr/lib/x86_64-linux-gnu/libssl.so.3"})
    gzip_file(no_ssl, tmp_path / "no-ssl.tar.gz")
    upload_image(image_registry.host, "base/no-ssl", "1", tmp_path / "no-ssl.tar.gz")
    assert_user_error(image(flask_slug, f"{image_registry.host}/app", "--base", f"{image_registry.host}/base/no-ssl:1"),
                      "base::missing-library", "libssl.so.3 (Debian package libssl3)",
                      "--no-install-recommends libssl3")
    upload_image(image_registry.host, "base/arm", "1", base_layer, architecture="arm64")
    assert_user_error(image(flask_slug, f"{image_registry.host}/app", "--base", f"{image_registry.host}/base/arm:1"),
                      "base::wrong-architecture", "linux/arm64")
    for name, entry in (("dotdot", ("file", "../../etc/cron.d/x")), ("hardlink", ("hard", "/etc/shadow"))):
        hostile = tmp_path / f"{name}.tar"
        with tarfile.open(hostile, "w") as tar:
            info = tarfile.TarInfo("etc/x" if entry[0] == "hard" else entry[1])
            if entry[0] == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, entry[1]
            tar.addfile(info, io.BytesIO(b""))
        gzip_file(hostile, tmp_path / f"{name}.tar.gz")
        upload_image(image_registry.host, f"base/{name}", "1", tmp_path / f"{name}.tar.gz")
        assert_user_error(image(flask_slug, f"{image_registry.host}/app", "--base",
                                f"{image_registry.host}/base/{name}:1"), "base::unsafe-layer", "leaves the image's root")


def test_a_full_disk_while_writing_a_layout(flask_slug: Path, image_registry: Registry, tmp_path: Path) -> None:
    if subprocess.run(["unshare", "-m", "true"], check=False).returncode != 0:
        pytest.skip("needs root for a private mount namespace")
    small = tmp_path / "small"
    small.mkdir()
    script = ('mount -t tmpfs -o size=4m tmpfs "$1" && exec "$2" "$3" "$4" --base "$5" --oci-layout "$1/layout"')
    completed = subprocess.run(
        ["unshare", "-m", "bash", "-c", script, "bash", str(small), str(Path(__file__).parents[2] / "bin/image"),
         str(flask_slug), f"{image_registry.host}/app", f"{image_registry.host}/{BASE_REPOSITORY}"],
        env=image_env(), capture_output=True, text=True, timeout=300, check=False)
    output = completed.stdout + completed.stderr
    assert completed.returncode == 1, output
    assert "[disk::full]" in output
    assert "Traceback" not in output
    assert PASSWORD not in output


def test_token_auth(flask_slug: Path, base_layer: Path, image_registry: Registry, tmp_path: Path) -> None:
    tokens = TokenService(tmp_path / "token")
    with tokens.serve() as token_url, registry(tmp_path / "registry", tokens.registry_auth(token_url)) as running:
        upload_image(running.host, BASE_REPOSITORY, "latest", base_layer, token_url=token_url)
        reference = f"{running.host}/apps/flask:token"
        digest, output = bin_image(flask_slug, reference, "--base", f"{running.host}/{BASE_REPOSITORY}")
        assert "4 blob(s) uploaded, 1 mounted from base/bookworm" in output
        again, output = bin_image(flask_slug, reference, "--base", f"{running.host}/{BASE_REPOSITORY}")
        assert again == digest
        # A base on another registry (its credentials from a docker config.json): its layer is
        # streamed across once.
        config = tmp_path / "docker"
        config.mkdir()
        auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        (config / "config.json").write_text(json.dumps({"auths": {image_registry.host: {"auth": auth}}}))
        other = image_env(DOCKER_CONFIG=str(config))
        across, output = bin_image(flask_slug, f"{running.host}/apps/across:1", "--base",
                                   f"{image_registry.host}/{BASE_REPOSITORY}", env=other)
        assert "4 blob(s) uploaded, 0 mounted from base/bookworm, 1 copied" in output, output
        assert across != digest  # its labels name the other base
        assert auth not in output
        assert any("scope=repository%3Aapps%2Fflask%3Apull%2Cpush" in path for path in tokens.requests)
        assert PASSWORD not in running.log.read_text(errors="replace")
        denied = image(flask_slug, reference, "--base", f"{running.host}/{BASE_REPOSITORY}",
                       env=host_environment(IMAGE_REGISTRY_USERNAME=USER, IMAGE_REGISTRY_PASSWORD="wrong-" + PASSWORD))
        assert_user_error(denied, "registry::unauthorized")
