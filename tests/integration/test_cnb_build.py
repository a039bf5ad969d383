"""bin/detect and bin/build as a Cloud Native Buildpack (Buildpack API 0.10),
driven as the spec's lifecycle runs them (tests/cnb_lifecycle.py): layers,
their reuse on a rebuild, the launch processes started as the launcher
would, and the platform's variables."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomllib
from cnb_lifecycle import (
    build,
    check_layer_metadata,
    detect,
    host_env,
    launched,
    restore_for_rebuild,
)
from helpers import Result, RuntimeMirror, assert_user_error, copy_fixture, stop_with_sigterm, wait_for_http
from python_buildpack import BUILDPACK_VERSION
from unprivileged import AS_NOBODY, owned_by_nobody, public_workspace

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.12.1")
    return runtime_mirror


def platform(root: Path, variables: dict[str, str] | None = None) -> Path:
    """<platform> with env/ holding the app's variables (the classic ENV_DIR)."""
    (root / "env").mkdir(parents=True)
    for name, value in (variables or {}).items():
        (root / "env" / name).write_text(value)
    return root


def detect_and_build(app: Path, layers: Path, platform_dir: Path, work: Path, mirror: RuntimeMirror | None,
                     as_user: list[str] | None = None) -> Result:
    """mirror None: PYTHON_RUNTIME_MIRROR is one of the platform's env files."""
    env = {**host_env(), **({"PYTHON_RUNTIME_MIRROR": mirror.url} if mirror else {})}
    detected = detect(app, platform_dir, work, env)
    assert detected.returncode == 0, detected.stderr
    assert detected.plan is not None
    return build(app, layers, platform_dir, work, env, detected.plan, as_user=as_user)


def layer(layers: Path, name: str) -> dict[str, object]:
    document = tomllib.loads((layers / f"{name}.toml").read_text())
    check_layer_metadata(document)
    return document


def identity(path: Path) -> tuple[int, int]:
    status = path.stat()
    return status.st_ino, status.st_mtime_ns


def test_flask_app_builds_serves_and_reuses_its_python_layer(mirror: RuntimeMirror, tmp_path: Path) -> None:
    layers, platform_dir = tmp_path / "layers", platform(tmp_path / "platform")
    app = copy_fixture("flask-app", tmp_path / "first")
    built = detect_and_build(app, layers, platform_dir, tmp_path, mirror)
    assert built.returncode == 0, built.output
    assert "python: made afresh, since there is no such layer from an earlier build" in built.output

    python = layer(layers, "python")
    assert python["types"] == {"launch": True, "build": False, "cache": True}
    assert python["metadata"]["buildpack_version"] == BUILDPACK_VERSION  # type: ignore[index]
    assert python["metadata"]["python_version"] == "3.12.1"  # type: ignore[index]
    assert layer(layers, "cache")["types"] == {"launch": False, "build": False, "cache": True}
    assert not (layers / "system.toml").exists()
    assert (app / ".lean" / "python").resolve() == layers / "python"
    assert (layers / "python" / "env.launch" / "PYTHONUNBUFFERED.override").read_text() == "1"

    with launched(layers, "web", tmp_path / "web.log", home=tmp_path) as running:
        assert wait_for_http(running, "/") == (200, "Hello from Flask on Python 3.12\n")
        stop_with_sigterm(running)

    # The next build, from the same source, after the lifecycle's restore.
    executable = layers / "python" / "bin" / "python3.12"
    before = identity(executable)
    marker = layers / "python" / "left-by-the-test"  # shows whether the directory was replaced
    marker.write_text("")
    restore_for_rebuild(layers)
    again = copy_fixture("flask-app", tmp_path / "second")
    rebuilt = detect_and_build(again, layers, platform_dir, tmp_path, mirror)
    assert rebuilt.returncode == 0, rebuilt.output
    assert "python: reused unchanged from the previous build" in rebuilt.output
    assert identity(executable) == before  # untouched, as the lifecycle expects of a reused layer
    assert marker.exists()

    # A layer an older buildpack made is replaced, and the log says why.
    restore_for_rebuild(layers)
    metadata = (layers / "python.toml").read_text().replace(f'"{BUILDPACK_VERSION}"', '"0.0.1"')
    (layers / "python.toml").write_text(metadata)
    third = copy_fixture("flask-app", tmp_path / "third")
    replaced = detect_and_build(third, layers, platform_dir, tmp_path, mirror)
    assert replaced.returncode == 0, replaced.output
    assert (f"python: made afresh, since it was made by buildpack version 0.0.1; this is {BUILDPACK_VERSION}"
            in replaced.output)
    assert not marker.exists()

    # So is one that holds another Python.
    mirror.ensure("3.11.7")
    restore_for_rebuild(layers)
    fourth = copy_fixture("flask-app", tmp_path / "fourth")
    (fourth / ".python-version").write_text("3.11\n")
    moved = detect_and_build(fourth, layers, platform_dir, tmp_path, mirror)
    assert moved.returncode == 0, moved.output
    assert "python: made afresh, since it holds Python 3.12.1; this build uses Python 3.11.7" in moved.output
    with launched(layers, "web", tmp_path / "web-fourth.log", home=tmp_path) as running:
        assert wait_for_http(running, "/") == (200, "Hello from Flask on Python 3.11\n")
        stop_with_sigterm(running)


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    with public_workspace("cnb-build-") as directory:
        yield directory


def test_system_dependencies_and_procfile_processes_as_nobody(mirror: RuntimeMirror, workspace: Path) -> None:
    """The build as a CNB builder runs it (an unprivileged user), with
    systemDependencies (apt without root) in the system layer."""
    app = copy_fixture("system-deps-app", workspace)
    (app / "leanengine.yaml").write_text("systemDependencies: [imagemagick]\n")
    (app / "Procfile").write_text("worker: python -c 'print(42)'\n")
    home = owned_by_nobody(workspace / "home")
    layers = owned_by_nobody(workspace / "layers")
    platform_dir = platform(workspace / "platform", {"SMOKE_CHECK": "1"})
    owned_by_nobody(app)
    built = detect_and_build(app, layers, platform_dir, workspace, mirror, as_user=AS_NOBODY)
    assert built.returncode == 0, built.output
    system = layer(layers, "system")
    assert system["types"] == {"launch": True, "build": False, "cache": True}
    assert system["metadata"]["system_dependencies"] == ["imagemagick"]  # type: ignore[index]
    assert len(system["metadata"]["system_key"]) == 32  # type: ignore[index]
    assert (layers / "system" / "usr" / "bin" / "convert").is_symlink()
    launch = tomllib.loads((layers / "launch.toml").read_text())
    assert [(p["type"], p["default"]) for p in launch["processes"]] == [("web", True), ("worker", False)]

    # /usr/local/bin/convert on this machine is a failing stand-in: the layer's must win.
    with launched(layers, "web", workspace / "web.log", home=home, as_user=AS_NOBODY) as running:
        status, body = wait_for_http(running, "/convert")
        assert status == 200, body
        assert "PNG 12x8" in body
        stop_with_sigterm(running)

    # Rebuilt from the same source: both layers are reused as they are.
    restore_for_rebuild(layers)
    again = copy_fixture("system-deps-app", workspace / "again")
    (again / "leanengine.yaml").write_text("systemDependencies: [imagemagick]\n")
    (again / "Procfile").write_text("worker: python -c 'print(42)'\n")
    owned_by_nobody(again)
    rebuilt = detect_and_build(again, layers, platform_dir, workspace, mirror, as_user=AS_NOBODY)
    assert rebuilt.returncode == 0, rebuilt.output
    assert "python: reused unchanged from the previous build" in rebuilt.output
    assert "system: reused unchanged from the previous build" in rebuilt.output
    assert (layers / "system" / "env.launch" / "PATH.prepend").is_file()


def test_platform_variables_are_refused_and_redacted_as_env_dir(mirror: RuntimeMirror, tmp_path: Path) -> None:
    secret = "s3cret-master-key-value"  # noqa: S105 -- a placeholder the test looks for
    platform_dir = platform(tmp_path / "platform", {"LEANCLOUD_APP_MASTER_KEY": secret,
                                                    "PRINT_BUILD_LOGS": "true",
                                                    "PYTHON_RUNTIME_MIRROR": mirror.url})
    app = copy_fixture("flask-app", tmp_path / "app")
    (app / "wsgi.py").write_text((app / "wsgi.py").read_text() + "\nimport os\nprint(os.environ.get("
                                 "'LEANCLOUD_APP_MASTER_KEY'))\n")
    (app / "leanengine.yaml").write_text("exposeEnvironmentsOnBuild: true\n"
                                         "build: echo key=$LEANCLOUD_APP_MASTER_KEY\n")
    built = detect_and_build(app, tmp_path / "layers", platform_dir, tmp_path, None)
    assert built.returncode == 0, built.output
    assert "key=[redacted]" in built.output
    assert secret not in built.output
    # Nowhere in the layers (the image's and the cache's, the step logs included) or the app.
    written = [p for root in (tmp_path / "layers", app) for p in root.rglob("*")
               if p.is_file() and not p.is_symlink()]
    assert [p for p in written if secret.encode() in p.read_bytes()] == []

    refused = platform(tmp_path / "refused", {"PYTHONHOME": "/somewhere"})
    other = copy_fixture("flask-app", tmp_path / "other")
    result = detect_and_build(other, tmp_path / "layers-refused", refused, tmp_path, mirror)
    assert_user_error(result, "env::refused-variable", "PYTHONHOME")
    assert not os.path.exists(tmp_path / "layers-refused" / "launch.toml")


@pytest.mark.parametrize(("fixture", "version", "path", "body"), [
    ("run-command-app", "3.12.1", "/", "run: command app"),        # leanengine.yaml run:
    ("tornado-app", "3.12.1", "/", "Hello from Tornado"),         # the Tornado server from .lean
    ("fastapi-app", "3.12.1", "/", "Hello from FastAPI"),         # ASGI: the worker class added
    ("monorepo-app", "3.11.7", "/", "backend in backend on 3.11, build ran: True"),  # buildRoot, $HOME
    ("leancloud-sdk-app", "3.11.7", "/__engine/1/ping", '{"version": "2.1.9", "runtime": "cpython-3.11.7"}'),  # the SDK's ping, under gevent
])
def test_the_classic_fixtures_build_as_cnbs_and_serve(mirror: RuntimeMirror, tmp_path: Path, fixture: str,
                                                       version: str, path: str, body: str) -> None:
    mirror.ensure(version)
    app = copy_fixture(fixture, tmp_path)
    layers = tmp_path / "layers"
    built = detect_and_build(app, layers, platform(tmp_path / "platform"), tmp_path, mirror)
    assert built.returncode == 0, built.output
    assert f"-----> Python {version}" in built.output
    with launched(layers, "web", tmp_path / "web.log", home=tmp_path) as running:
        status, answer = wait_for_http(running, path)
        assert status == 200, answer
        assert answer.startswith(body), answer
        stop_with_sigterm(running)
