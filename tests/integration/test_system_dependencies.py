"""systemDependencies built for real: Debian packages fetched from the build
image's apt sources, unpacked into the slug, used by the app after the slug moved."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from helpers import (
    Result,
    RuntimeMirror,
    assert_user_error,
    compile_app,
    copy_fixture,
    free_port,
    move_slug,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)
from python_buildpack.reporting import errors
from python_buildpack.system.debian_packages import AptSource

pytestmark = pytest.mark.integration

APP = "system-deps-app"


@pytest.fixture(scope="module")
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.12.1")
    return runtime_mirror


@pytest.fixture(scope="module")
def package_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CACHE_DIR for the module: the Debian packages are downloaded once."""
    return tmp_path_factory.mktemp("system-deps-cache")


@pytest.fixture(scope="module")
def first_build(mirror: RuntimeMirror, package_cache: Path,
                tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    work = tmp_path_factory.mktemp("system-deps-first")
    app = copy_fixture(APP, work / "build")
    result = compile_app(mirror.url, app, package_cache)
    assert result.returncode == 0, result.output
    return result, move_slug(app, work / "moved")


def test_each_hook_says_what_it_added(first_build: tuple[Result, Path]) -> None:
    result, _slug = first_build
    log = result.output
    assert "-----> Installing system dependencies: imagemagick, fonts-wqy, ffmpeg" in log
    for name in ("imagemagick", "fonts-wqy", "ffmpeg"):
        line = next(line for line in log.splitlines() if line.strip().startswith(f"{name}:"))
        assert "Debian packages" in line, line
        assert " MB" in line, line
    assert "Downloaded " in log
    assert "System packages in the slug: " in log
    assert "Adding TA-Lib>=0.6 for systemDependencies" in log
    assert "Traceback" not in log


def test_the_moved_app_uses_every_system_dependency(first_build: tuple[Result, Path],
                                                    tmp_path: Path) -> None:
    _result, slug = first_build
    answers = {}
    # The test PATH has /usr/local/bin first, where this machine keeps a failing
    # stand-in `convert`: the slug's own must win.
    with start_slug(slug, web_command(slug), tmp_path / "web.log") as app:
        for route in ("/convert", "/fonts", "/ffmpeg", "/talib"):
            answers[route] = wait_for_http(app, route)
        stop_with_sigterm(app)
    assert answers["/convert"][0] == 200, answers["/convert"]
    assert "PNG 12x8" in answers["/convert"][1]
    assert answers["/fonts"][0] == 200, answers["/fonts"]
    assert "WenQuanYi Zen Hei" in answers["/fonts"][1]
    assert answers["/ffmpeg"][0] == 200, answers["/ffmpeg"]
    assert answers["/ffmpeg"][1].startswith("ffmpeg version ")
    assert answers["/talib"] == (200, "SMA3 4.0")


def test_a_rebuild_downloads_nothing(first_build: tuple[Result, Path], mirror: RuntimeMirror,
                                     package_cache: Path, tmp_path: Path) -> None:
    # The unpacked-tree layer makes a plain rebuild a copy.
    app = copy_fixture(APP, tmp_path / "again")
    again = compile_app(mirror.url, app, package_cache)
    assert again.returncode == 0, again.output
    assert "Restored the system packages from the cache" in again.output
    # Without that layer the .deb files in the cache are unpacked again; apt is
    # pointed at a dead proxy, so any download would fail the build.
    shutil.rmtree(package_cache / "python-buildpack" / "layers" / "system")
    app = copy_fixture(APP, tmp_path / "offline")
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    offline = compile_app(mirror.url, app, package_cache, http_proxy=dead_proxy,
                          https_proxy=dead_proxy, no_proxy="127.0.0.1,localhost")
    assert offline.returncode == 0, offline.output
    assert "Debian packages came from the package cache" in offline.output
    assert "Downloaded " not in offline.output.split("Installing system dependencies")[1].split("----->")[0]
    assert (app / ".lean" / "system" / "usr" / "bin" / "convert").is_symlink()


@pytest.mark.parametrize(("listed", "phrases"), [
    ("imagemagik", ['"imagemagik"', 'Did you mean "imagemagick"?', "- chrome-headless", "- python-talib"]),
    ("phantomjs", ["discontinued", "chrome-headless"]),
])
def test_unknown_or_discontinued_names_are_refused(mirror: RuntimeMirror, tmp_path: Path,
                                                   listed: str, phrases: list[str]) -> None:
    app = copy_fixture(APP, tmp_path / "build")
    (app / "leanengine.yaml").write_text(f"systemDependencies: [ffmpeg, {listed}]\n")
    result = compile_app(mirror.url, app, tmp_path / "cache")
    code = "unknown" if listed != "phantomjs" else "discontinued"
    assert_user_error(result, f"system-dependencies::{code}", *phrases)
    assert not (tmp_path / "cache" / "python-buildpack" / "apt").exists()


def test_an_unreachable_package_source_fails_clearly(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture(APP, tmp_path / "build")
    (app / "leanengine.yaml").write_text("systemDependencies: [imagemagick]\n")
    cache = tmp_path / "cache"
    closed = f"http://127.0.0.1:{free_port()}/debian"
    result = compile_app(mirror.url, app, cache, SYSTEM_PACKAGES_MIRROR=closed)
    assert_user_error(result, "system-dependencies::source-unreachable", closed, "Connection refused")
    assert not (app / ".lean" / "system").exists()
    assert not (cache / "python-buildpack" / "layers" / "system").exists()


def build_and_probe(mirror: RuntimeMirror, fixture: str, cache: Path, work: Path, route: str
                    ) -> tuple[Result, tuple[int, str]]:
    app = copy_fixture(fixture, work / "build")
    result = compile_app(mirror.url, app, cache, PRINT_BUILD_LOGS="true")
    assert result.returncode == 0, result.output
    slug = move_slug(app, work / "moved")
    with start_slug(slug, web_command(slug), work / "web.log") as running:
        answer = wait_for_http(running, route, deadline_seconds=90)
        stop_with_sigterm(running)
    return result, answer


def test_pip_builds_against_node_canvas_headers(mirror: RuntimeMirror, package_cache: Path,
                                               tmp_path: Path) -> None:
    # pycairo has no Linux wheels: the installer (uv, the default) compiles it against
    # the slug's cairo headers, found through pkg-config files that were moved with the tree.
    result, answer = build_and_probe(mirror, "canvas-app", package_cache, tmp_path, "/")
    assert re.search(r"(Built|Building wheel for|Successfully built) pycairo", result.output), result.output
    assert answer == (200, "cairo 1.16.0 4x3")


def test_chrome_headless_renders_a_page_for_the_app(mirror: RuntimeMirror, package_cache: Path,
                                                    tmp_path: Path) -> None:
    _result, (status, body) = build_and_probe(mirror, "chrome-app", package_cache, tmp_path, "/render")
    assert status == 200, body
    assert '<p id="out">rendered 42</p>' in body


def test_a_package_the_source_lacks_is_unresolvable(package_cache: Path,
                                                    first_build: tuple[Result, Path]) -> None:
    # Real apt on the lists the first build fetched; a registry entry naming a
    # package Debian does not have would fail like this.
    source = AptSource(package_cache / "python-buildpack", dict(os.environ))
    with pytest.raises(errors.BuildpackError) as raised, source.locked():
        source.resolve(["leanengine-no-such-deb"])
    assert raised.value.code == "system-dependencies::unresolvable"
    assert "leanengine-no-such-deb" in raised.value.detail
