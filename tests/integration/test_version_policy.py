"""The version policy end to end: an unpinned app stays on its line when the mirror
gains a newer one, the LeanCloud SDK's default, a pin the SDK cannot install on,
misspelled version files, a committed virtual environment. Real archives from
bin/package-runtime, mirrors served on 127.0.0.1, pip and uv against PyPI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import (
    Result,
    RuntimeMirror,
    assert_user_error,
    compile_app,
    copy_fixture,
    http_server,
    move_slug,
    pyenv_prefix,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)

pytestmark = pytest.mark.integration


@contextmanager
def mirror_of(runtime_mirror: RuntimeMirror, directory: Path, versions: list[str]) -> Iterator[str]:
    """A mirror of its own holding only `versions` (archives hard-linked from the
    session's mirror), served over HTTP; `publish` changes what it holds."""
    runtime_mirror.ensure(*versions)
    directory.mkdir(parents=True, exist_ok=True)
    publish(runtime_mirror, directory, versions)
    with http_server(directory) as url:
        yield url


def publish(runtime_mirror: RuntimeMirror, directory: Path, versions: list[str]) -> None:
    runtime_mirror.ensure(*versions)
    manifest = json.loads((runtime_mirror.directory / "manifest.json").read_text())
    entries = [entry for entry in manifest["runtimes"] if entry["version"] in versions]
    for entry in entries:
        target = directory / entry["url"]
        if not target.exists():
            os.link(runtime_mirror.directory / entry["url"], target)
    (directory / "manifest.json").write_text(json.dumps({"runtimes": entries}))


def built(mirror_url: str, source: Path, workdir: Path, cache: Path, **env: str) -> tuple[Path, Result]:
    app = workdir / f"build-{len(list(workdir.glob('build-*')))}"
    shutil.copytree(source, app, symlinks=True)
    result = compile_app(mirror_url, app, cache, **env)
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output
    return app, result


def python_of(slug: Path) -> str:
    return json.loads((slug / ".lean" / "build-report.json").read_text())["python_version"]


def without_a_pin(fixture: str, tmp_path: Path) -> Path:
    source = copy_fixture(fixture, tmp_path / "src")
    (source / ".python-version").unlink()
    return source


def test_an_unpinned_app_stays_on_its_line_when_the_mirror_gains_a_newer_one(
    runtime_mirror: RuntimeMirror, tmp_path: Path
) -> None:
    source, cache = without_a_pin("flask-app", tmp_path), tmp_path / "cache"
    with mirror_of(runtime_mirror, tmp_path / "mirror", ["3.11.7", "3.12.1"]) as url:
        first, result = built(url, source, tmp_path, cache, SMOKE_CHECK="0")
        assert python_of(first) == "3.12.1"
        assert "the newest stable version in the mirror" in result.output

        publish(runtime_mirror, tmp_path / "mirror", ["3.11.7", "3.12.1", "3.13.0"])
        second, result = built(url, source, tmp_path, cache, SMOKE_CHECK="0")
        assert python_of(second) == "3.12.1"
        assert ("Chosen as before: kept on 3.12 (the line of the previous build); pin a version in"
                " .python-version to move") in result.output
        moved = move_slug(second, tmp_path / "moved")
        with start_slug(moved, web_command(moved), tmp_path / "web.log") as app:
            assert wait_for_http(app, "/")[0] == 200
            stop_with_sigterm(app)

        # BUILD_NO_CACHE forgets the line, and the platform's default is for apps that never built.
        fresh, _ = built(url, source, tmp_path, cache, SMOKE_CHECK="0", BUILD_NO_CACHE="1")
        assert python_of(fresh) == "3.13.0"
        _, result = built(url, source, tmp_path, tmp_path / "new-cache", SMOKE_CHECK="0",
                          PYTHON_DEFAULT_VERSION="3.11")
        assert "from PYTHON_DEFAULT_VERSION (3.11)" in result.output


def test_an_unpinned_sdk_app_builds_on_3_11_and_answers_its_ping(
    runtime_mirror: RuntimeMirror, tmp_path: Path
) -> None:
    with mirror_of(runtime_mirror, tmp_path / "mirror", ["3.11.7", "3.12.1", "3.13.0"]) as url:
        slug, result = built(url, without_a_pin("leancloud-sdk-app", tmp_path), tmp_path, tmp_path / "cache")
    assert python_of(slug) == "3.11.7"
    assert ("Chosen the newest line in the mirror on which leancloud installs (leancloud: Python <3.12)"
            in result.output)
    assert "To build on another line leancloud installs on, pin it in .python-version." in result.output
    assert "Warning:" not in result.output
    slug = move_slug(slug, tmp_path / "moved")
    with start_slug(slug, web_command(slug), tmp_path / "web.log") as app:
        status, body = wait_for_http(app, "/__engine/1/ping")
        assert status == 200, app.output()
        assert json.loads(body)["runtime"] == "cpython-3.11.7"
        stop_with_sigterm(app)


def test_leancloud_with_a_3_12_pin_fails_before_pip_runs(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    source = without_a_pin("leancloud-sdk-app", tmp_path)
    (source / ".python-version").write_text("3.12\n")
    with mirror_of(runtime_mirror, tmp_path / "mirror", ["3.11.7", "3.12.1"]) as url:
        result = compile_app(url, source, tmp_path / "cache")
    assert_user_error(result, "python-version::incompatible-package", "leancloud does not install on Python 3.12.1",
                      "gevent<23", "Put `3.11` in .python-version")
    # Refused in the analysis: no runtime fetched, nothing installed, nothing cached.
    assert "Installing" not in result.output
    assert not (source / ".lean" / "python").exists()
    assert not list((tmp_path / "cache").glob("python-buildpack/layers/*"))


@pytest.mark.parametrize("name", [".python-version ", "python-version", ".python_version"])
def test_a_misspelled_version_file_is_an_error_naming_the_right_one(
    runtime_mirror: RuntimeMirror, tmp_path: Path, name: str
) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    (source / ".python-version").rename(source / name)
    with mirror_of(runtime_mirror, tmp_path / "mirror", ["3.12.1"]) as url:
        result = compile_app(url, source, tmp_path / "cache")
    assert_user_error(result, "python-version::misspelled-file", "the name should be .python-version")


def test_a_free_threaded_pin_is_met_only_by_a_free_threaded_entry(
    runtime_mirror: RuntimeMirror, tmp_path: Path
) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    (source / ".python-version").write_text("3.13t\n")
    directory = tmp_path / "mirror"
    with mirror_of(runtime_mirror, directory, ["3.12.1", "3.13.0"]) as url:
        result = compile_app(url, source, tmp_path / "cache")
        assert_user_error(result, "python-version::not-available", "Python 3.13t is not available",
                          "Versions in the mirror: 3.12.1, 3.13.0.")
        # This machine has no free-threaded CPython to pack, so the entry marked free-threaded is a
        # fake: the plain 3.13.0 archive under a second name. What is real is the choice between
        # the two entries of one version, which the download's name shows.
        manifest = json.loads((directory / "manifest.json").read_text())
        plain = next(entry for entry in manifest["runtimes"] if entry["version"] == "3.13.0")
        marked = {**plain, "url": plain["url"].replace("-install_only", "-freethreaded-install_only"),
                  "free_threaded": True}
        os.link(directory / plain["url"], directory / marked["url"])
        (directory / "manifest.json").write_text(json.dumps({"runtimes": [*manifest["runtimes"], marked]}))
        _, result = built(url, source, tmp_path, tmp_path / "cache", SMOKE_CHECK="0")
        assert "-----> Python 3.13.0 (free-threaded)" in result.output
        assert "-freethreaded-install_only.tar.gz" in result.output
        (source / ".python-version").write_text("3.13\n")
        _, result = built(url, source, tmp_path, tmp_path / "cache", SMOKE_CHECK="0")
        assert "freethreaded" not in result.output


def test_an_upload_with_a_committed_venv_builds_and_serves(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    # A real virtual environment made on the developer's machine, with a package the app does not need.
    subprocess.run([str(pyenv_prefix("3.12.1") / "bin" / "python3"), "-m", "venv", str(source / "venv")],
                   check=True)
    (source / "venv" / "lib" / "python3.12" / "site-packages" / "only_in_venv.py").write_text("X = 1\n")
    (source / ".lean").mkdir()
    (source / ".lean" / "stale.txt").write_text("from a slug committed back\n")
    with mirror_of(runtime_mirror, tmp_path / "mirror", ["3.12.1"]) as url:
        slug, result = built(url, source, tmp_path, tmp_path / "cache")
    assert "Warning: The upload has a virtual environment: venv/ (" in result.output
    assert "MB in the slug)" in result.output
    assert "Warning: The upload has a .lean/ directory" in result.output
    assert not (slug / ".lean" / "stale.txt").exists()
    python = slug / ".lean" / "python" / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import flask, sys; print(flask.__file__);"
                            " import only_in_venv"], capture_output=True, text=True, check=False)
    assert "/.lean/python/lib/python3.12/site-packages/flask/" in probe.stdout
    assert "No module named 'only_in_venv'" in probe.stderr  # the venv is not on the path
    slug = move_slug(slug, tmp_path / "moved")
    with start_slug(slug, web_command(slug), tmp_path / "web.log") as app:
        assert wait_for_http(app, "/")[0] == 200
        stop_with_sigterm(app)
