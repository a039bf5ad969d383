"""Each kind of app as an image, pulled and run by podman, then stopped with
`podman stop` (SIGTERM through the image's init) within 10 s: the LeanCloud
SDK app (its ping answers 200), a `run:` app that installs no SIGTERM handler
(as PID 1 it would never stop), and an app with systemDependencies."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import LEANCLOUD_ENV, RuntimeMirror, compile_app, copy_fixture, free_port
from image_support import BASE_REPOSITORY, PASSWORD, USER, Podman, Registry, bin_image

pytestmark = pytest.mark.integration

RUN_APP = '''\
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"plain run: app\\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# No SIGTERM handler on purpose: the image's init must stop it.
HTTPServer(("0.0.0.0", int(os.environ["LEANCLOUD_APP_PORT"])), Handler).serve_forever()
'''


def sdk_app(root: Path) -> Path:
    return copy_fixture("leancloud-sdk-app", root)


def run_app(root: Path) -> Path:
    app = root / "run-app"
    app.mkdir()
    (app / "leanengine.yaml").write_text("runtime: python\nrun: python app.py\n")
    (app / "requirements.txt").write_text("")
    (app / ".python-version").write_text("3.12\n")
    (app / "app.py").write_text(RUN_APP)
    return app


def imagemagick_app(root: Path) -> Path:
    app = copy_fixture("system-deps-app", root)
    (app / "leanengine.yaml").write_text("systemDependencies: [imagemagick]\n")
    (app / "requirements.txt").write_text("")
    return app


APPS = {
    "sdk": (sdk_app, "/__engine/1/ping", "3.11.7"),
    "run": (run_app, "/", "3.12.1"),
    "imagemagick": (imagemagick_app, "/convert", "3.12.1"),
}


def get(url: str, seconds: float = 40) -> tuple[int, str]:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.parametrize("kind", sorted(APPS))
def test_app_image_runs_in_podman_and_stops_on_sigterm(
        kind: str, runtime_mirror: RuntimeMirror, shared_cache: Path, image_registry: Registry, podman: Podman,
        tmp_path: Path) -> None:
    make_app, path, version = APPS[kind]
    runtime_mirror.ensure(version)
    app = make_app(tmp_path)
    built = compile_app(runtime_mirror.url, app, shared_cache)
    assert built.returncode == 0, built.output
    reference = f"{image_registry.host}/apps/{kind}:1"
    bin_image(app, reference, "--base", f"{image_registry.host}/{BASE_REPOSITORY}")
    podman.run("pull", "--creds", f"{USER}:{PASSWORD}", reference)
    port = free_port()
    env = [arg for name, value in LEANCLOUD_ENV.items() for arg in ("--env", f"{name}={value}")]
    container = podman.run("run", "--detach", "--network=host", "--env", f"PORT={port}", *env,
                           reference).stdout.strip()
    try:
        status, body = get(f"http://127.0.0.1:{port}{path}")
        logs = podman.run("logs", container, check=False)
        assert status == 200, f"{body}\n{logs.stdout}\n{logs.stderr}"
        if kind == "imagemagick":
            assert "PNG 12x8" in body
        started = time.monotonic()
        podman.run("stop", "--time", "10", container)
        seconds = time.monotonic() - started
        assert seconds < 10, f"stopped after {seconds:.1f} s"
        state = podman.run("inspect", "--format", "{{.State.ExitCode}}", container).stdout.strip()
        assert state != "137", "killed after the grace period, not stopped by SIGTERM"
    finally:
        podman.run("rm", "--force", container, check=False)
