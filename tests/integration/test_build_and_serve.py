"""detect -> compile -> release, then the slug moved, started as the platform does, probed, SIGTERMed."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from helpers import (
    Result,
    RuntimeMirror,
    compile_app,
    copy_fixture,
    host_environment,
    move_slug,
    run_bin,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)

pytestmark = pytest.mark.integration


def build_and_move(mirror: RuntimeMirror, fixture: str, tmp_path: Path, cache: Path) -> tuple[Path, Result]:
    app = copy_fixture(fixture, tmp_path / "build")
    result = compile_app(mirror.url, app, cache)
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output
    return move_slug(app, tmp_path / "elsewhere"), result


ALL_LINES = ["2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0"]


@pytest.mark.parametrize("version", ALL_LINES)
def test_every_python_line_builds_serves_and_stops(
    runtime_mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path, version: str,
) -> None:
    """Each CPython of this machine: packed, chosen by its X.Y line, built with the
    tools pinned for that line, served by the default web command, stopped by SIGTERM."""
    runtime_mirror.ensure(version)
    app = copy_fixture("flask-any-python", tmp_path / "build")
    line = ".".join(version.split(".")[:2])
    (app / ".python-version").write_text(line + "\n")
    result = compile_app(runtime_mirror.url, app, shared_cache)
    assert result.returncode == 0, result.output
    assert f"-----> Python {version}" in result.output
    assert f"Chosen from .python-version ({line})" in result.output
    slug = move_slug(app, tmp_path / "elsewhere")

    with start_slug(slug, web_command(slug), tmp_path / "web.log") as running:
        assert wait_for_http(running, "/") == (200, f"Flask on CPython {version}\n")
        seconds = stop_with_sigterm(running)
    assert seconds < 10, f"took {seconds:.1f}s to stop after SIGTERM"
    assert running.process.returncode == 0, running.output()


@pytest.mark.parametrize(
    ("fixture", "version", "expected_body"),
    [
        ("flask-app", "3.12.1", "Hello from Flask on Python 3.12"),
        ("run-command-app", "3.12.1", "run: command app"),
    ],
)
def test_app_builds_moves_serves_and_stops_on_sigterm(
    runtime_mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path,
    fixture: str, version: str, expected_body: str,
) -> None:
    runtime_mirror.ensure(version)
    slug, result = build_and_move(runtime_mirror, fixture, tmp_path, shared_cache)
    assert f"-----> Python {version}" in result.output

    with start_slug(slug, web_command(slug), tmp_path / "web.log") as app:
        status, body = wait_for_http(app, "/")
        assert (status, body.strip()) == (200, expected_body)
        seconds = stop_with_sigterm(app)
    assert seconds < 10, f"took {seconds:.1f}s to stop after SIGTERM"
    assert app.process.returncode == 0, app.output()


def test_default_server_logs_access_and_takes_workers_from_environment(
    runtime_mirror: RuntimeMirror, tmp_path: Path,
) -> None:
    runtime_mirror.ensure("3.12.1")
    slug, result = build_and_move(runtime_mirror, "flask-app", tmp_path, tmp_path / "cache")
    assert "Added gunicorn" in result.output

    with start_slug(slug, web_command(slug), tmp_path / "a.log", env={"WEB_CONCURRENCY": "3"}) as app:
        assert wait_for_http(app, "/env")[1] == "production"
        stop_with_sigterm(app)
    log = app.output()
    assert len(re.findall(r"Booting worker", log)) == 3
    assert '"GET /env HTTP/1.1" 200' in log
    assert f"0.0.0.0:{app.port}" in log

    with start_slug(slug, web_command(slug), tmp_path / "b.log") as app:  # LEANCLOUD_AVAILABLE_CPUS=2
        wait_for_http(app, "/")
        stop_with_sigterm(app)
    assert len(re.findall(r"Booting worker", app.output())) == 2


def test_leancloud_sdk_app_answers_ping_and_page(
    runtime_mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path,
) -> None:
    # The SDK's ping handler calls start_response twice; a bare gunicorn answers 500.
    runtime_mirror.ensure("3.11.7")
    slug, result = build_and_move(runtime_mirror, "leancloud-sdk-app", tmp_path, shared_cache)
    assert "Warning:" not in result.output  # pinned the way the known-problem checks ask

    with start_slug(slug, web_command(slug), tmp_path / "web.log") as app:
        status, body = wait_for_http(app, "/__engine/1/ping")
        assert status == 200, app.output()
        assert json.loads(body)["runtime"] == "cpython-3.11.7"
        assert wait_for_http(app, "/") == (200, "LeanCloud SDK app is up\n")
        stop_with_sigterm(app)


def test_apps_own_gunicorn_is_used(
    runtime_mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path,
) -> None:
    runtime_mirror.ensure("3.12.1")
    slug, result = build_and_move(runtime_mirror, "flask-own-gunicorn-app", tmp_path, shared_cache)
    assert "Added gunicorn" not in result.output

    with start_slug(slug, web_command(slug), tmp_path / "web.log") as app:
        assert wait_for_http(app, "/")[0] == 200
        stop_with_sigterm(app)
    assert "Starting gunicorn 22.0.0" in app.output()


def test_release_prints_default_or_run_command(tmp_path: Path) -> None:
    default = run_bin("release", copy_fixture("flask-app", tmp_path))
    assert default.returncode == 0
    assert default.stdout.startswith("default_process_types:\n  web: gunicorn --config .lean/gunicorn.conf.py")
    custom = run_bin("release", copy_fixture("run-command-app", tmp_path))
    assert custom.stdout == ("default_process_types:\n  web: python server.py\n"
                             "leanengine:\n  startupTimeout: 30\n")


@pytest.mark.parametrize("version", ["2.7.18", "3.6.15"])
def test_c_extension_builds_on_old_lines_with_pyenv_hidden(
    runtime_mirror: RuntimeMirror, tmp_path: Path, version: str,
) -> None:
    """The buildpack runs on the distribution's python3 with no pyenv anywhere.

    /root/.pyenv/versions is hidden by a private mount namespace, so a runtime
    or a sysconfig that still pointed there (``cannot find -lpython2.7``) fails.
    """
    runtime_mirror.ensure(version)
    app = copy_fixture("c-extension-app", tmp_path / "build")
    (app / ".python-version").write_text(version + "\n")
    env = {k: v for k, v in host_environment().items() if not k.startswith("PIP_")}
    env.update(PATH="/usr/bin:/bin", PYTHON_RUNTIME_MIRROR=runtime_mirror.url,
               BUILDPACK_TOOLS_DIR=str(tmp_path / "tools"))
    hidden = 'mount -t tmpfs none /root/.pyenv/versions && exec "$@"'
    cache = tmp_path / "cache"
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", hidden, "sh",
            "/usr/bin/env", "bash", str(Path(__file__).parents[2] / "bin" / "compile"), str(app), str(cache)]
    completed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert re.search(r"Successfully installed .*lean-native-1\.0", completed.stdout), completed.stdout

    slug = move_slug(app, tmp_path / "elsewhere")
    with start_slug(slug, web_command(slug), tmp_path / "web.log") as running:
        assert wait_for_http(running, "/") == (200, "native extension says hello")
        stop_with_sigterm(running)
