"""bin/image on the Flask fixture, for real: a CNCF distribution registry on
127.0.0.1 (htpasswd auth), a base made by mmdebstrap, skopeo and podman."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from helpers import RuntimeMirror, compile_app, copy_fixture, free_port
from image_support import BASE_REPOSITORY, PASSWORD, USER, Podman, Registry, bin_image, skopeo

pytestmark = pytest.mark.integration

DIGEST = re.compile(r"^-----> Image \S+@(sha256:[0-9a-f]{64})$", re.MULTILINE)


def skopeo_creds(registry: Registry) -> list[str]:
    return ["--src-tls-verify=false", "--src-creds", f"{USER}:{PASSWORD}"] if registry else []


def test_push_is_reproducible_and_skopeo_accepts_it(flask_slug: Path, image_registry: Registry,
                                                    tmp_path: Path) -> None:
    base = f"{image_registry.host}/{BASE_REPOSITORY}"
    reference = f"{image_registry.host}/apps/flask:v1"
    started = time.monotonic()
    first, output = bin_image(flask_slug, reference, "--base", base)
    first_seconds = time.monotonic() - started
    assert "4 blob(s) uploaded, 1 mounted from base/bookworm" in output, output
    assert image_registry.uploads("apps/flask") == 4
    again, output = bin_image(flask_slug, reference, "--base", base)
    assert again == first
    assert "0 blob(s) uploaded, 0 mounted from base/bookworm, 0 copied, 5 already there" in output
    assert image_registry.uploads("apps/flask") == 4, "a re-run uploads nothing"

    inspected = json.loads(skopeo("inspect", "--tls-verify=false", "--creds", f"{USER}:{PASSWORD}",
                                  f"docker://{reference}").stdout)
    assert inspected["Digest"] == first
    assert inspected["Labels"]["io.leancloud.buildpack.python-version"] == "3.12.1"
    assert inspected["Labels"]["org.opencontainers.image.version"] == "v1"
    assert inspected["Architecture"] == "amd64"
    layout = tmp_path / "copied"
    skopeo("copy", *skopeo_creds(image_registry), f"docker://{reference}", f"oci:{layout}:v1")
    index = json.loads((layout / "index.json").read_text())
    assert [entry["digest"] for entry in index["manifests"]] == [first]
    # The same image written as a layout and as a load archive, by bin/image itself.
    ours = tmp_path / "ours"
    layout_digest, _output = bin_image(flask_slug, reference, "--base", base, "--oci-layout", str(ours),
                                       "--tarball", str(tmp_path / "flask.tar"),
                                       "--kubernetes", str(tmp_path / "flask.k8s.yaml"))
    assert layout_digest == first
    assert f"image: {reference.rsplit(':', 1)[0]}@{first}" in (tmp_path / "flask.k8s.yaml").read_text()
    assert json.loads((ours / "index.json").read_text())["manifests"][0]["digest"] == first
    assert sorted(p.name for p in (ours / "blobs/sha256").iterdir()) == sorted(
        p.name for p in (layout / "blobs/sha256").iterdir())
    print(f"first push {first_seconds:.1f} s")


def test_podman_pulls_runs_and_stops_the_flask_image(flask_slug: Path, image_registry: Registry,
                                                     podman: Podman, tmp_path: Path) -> None:
    reference = f"{image_registry.host}/apps/flask:run"
    bin_image(flask_slug, reference, "--base", f"{image_registry.host}/{BASE_REPOSITORY}",
              "--tarball", str(tmp_path / "flask.tar"))
    loaded = podman.run("load", "--input", str(tmp_path / "flask.tar"))
    assert reference in loaded.stdout, loaded.stdout
    port = free_port()
    container = podman.run("run", "--detach", "--network=host", "--env", f"PORT={port}",
                           "--env", "TZ=Asia/Shanghai", reference).stdout.strip()
    try:
        # Answering on PORT means the launcher set LEANCLOUD_APP_PORT from it.
        status, body = wait_for(f"http://127.0.0.1:{port}/")
        assert (status, body) == (200, "Hello from Flask on Python 3.12\n")
        facts = podman.run("exec", container, "bash", "-c",
                           'id -u; echo "$HOME"; date +%z; touch /app/w /tmp/w && echo writable').stdout.split()
        assert facts == ["1000", "/app", "+0800", "writable"]
        started = time.monotonic()
        podman.run("stop", "--time", "10", container)
        assert time.monotonic() - started < 10
    finally:
        podman.run("rm", "--force", container, check=False)


def wait_for(url: str, seconds: float = 30) -> tuple[int, str]:
    import urllib.request  # noqa: PLC0415

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status, response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_code_only_change_uploads_only_the_app_layer_and_config(
        runtime_mirror: RuntimeMirror, shared_cache: Path, image_registry: Registry, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    assert compile_app(runtime_mirror.url, app, shared_cache).returncode == 0
    reference = f"{image_registry.host}/apps/change:latest"
    base = f"{image_registry.host}/{BASE_REPOSITORY}"
    before, _output = bin_image(app, reference, "--base", base)
    uploads = image_registry.uploads("apps/change")
    wsgi = app / "wsgi.py"
    wsgi.write_text(wsgi.read_text().replace("Hello from Flask", "Hello again from Flask"))
    assert compile_app(runtime_mirror.url, app, shared_cache).returncode == 0
    started = time.monotonic()
    after, output = bin_image(app, reference, "--base", base)
    seconds = time.monotonic() - started
    assert after != before
    assert "2 blob(s) uploaded, 0 mounted from base/bookworm, 0 copied, 3 already there" in output, output
    assert image_registry.uploads("apps/change") - uploads == 2
    print(f"push after a code-only change {seconds:.1f} s")
