"""A disk that fills up during the build, made real with a small tmpfs in a private
mount namespace (`unshare -m`, root): a clear `disk::full` error, no traceback,
and a cache the next build uses as it was."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import (
    ANSI,
    FIXTURES,
    REPO,
    RuntimeMirror,
    compile_app,
    host_environment,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)

from stress.support import Figures, SecretEnv, secret_env_dir, unfinished_layers

pytestmark = [pytest.mark.stress, pytest.mark.integration]
RESTORED = "Restored Python and dependencies from the cache"
COMPILE = f'"{REPO}/bin/compile" "$1" "$2" "$3" > "$4" 2>&1; echo $? >> "$4.rc"'


def on_small_disk(mount_point: Path, megabytes: int, script: str, *args: str | Path,
                  mirror_url: str) -> None:
    """Run script (sh, $1.. = args) with a tmpfs of `megabytes` mounted at mount_point,
    seen only by this command and its children."""
    mount_point.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["unshare", "-m", "sh", "-c",
         f'mount -t tmpfs -o size={megabytes}m tmpfs "{mount_point}" && {script}', "sh", *map(str, args)],
        env=host_environment(PYTHON_RUNTIME_MIRROR=mirror_url), check=True, timeout=900)


def outputs(log: Path) -> tuple[list[int], str]:
    codes = [int(line) for line in Path(f"{log}.rc").read_text().split()]
    return codes, ANSI.sub("", log.read_text())


def serves(app: Path, log: Path) -> bool:
    with start_slug(app, web_command(app), log) as running:
        status, _ = wait_for_http(running, "/")
        stop_with_sigterm(running)
    return status == 200


def check_disk_full_error(codes: list[int], text: str, env: SecretEnv) -> None:
    assert codes[0] == 1, text
    assert "[disk::full]" in text, text
    assert "The disk filled up during the build" in text
    assert "Traceback" not in text
    assert env.leaks(text) == 0


@pytest.fixture
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.12.1")
    return runtime_mirror


def test_slug_disk_full_keeps_the_cached_layer(mirror: RuntimeMirror, tmp_path: Path, figures: Figures) -> None:
    """The build dir fills up while the cached layer is copied in: the layer is not
    the culprit and must not be thrown away (it was, before the stress suite)."""
    env = secret_env_dir(tmp_path / "env")
    cache = tmp_path / "cache"
    first = tmp_path / "first"
    shutil.copytree(FIXTURES / "flask-app", first)
    assert compile_app(mirror.url, first, cache, env.path).returncode == 0
    layers_before = sorted(p.name for p in (cache / "python-buildpack" / "layers" / "install").iterdir())
    row = figures.row("disk full: slug's disk, cached layer present")
    row.trials += 1
    small, log = tmp_path / "small", tmp_path / "full.log"
    on_small_disk(small, 30, f'cp -a "$5" "$1" && {COMPILE}', small / "app", cache, env.path, log,
                  FIXTURES / "flask-app", mirror_url=mirror.url)
    codes, text = outputs(log)
    row.add_leaks(env.leaks(text))
    check_disk_full_error(codes, text, env)
    assert sorted(p.name for p in (cache / "python-buildpack" / "layers" / "install").iterdir()) == layers_before
    again = tmp_path / "again"
    shutil.copytree(FIXTURES / "flask-app", again)
    result = compile_app(mirror.url, again, cache, env.path)
    assert result.returncode == 0, result.output
    assert RESTORED in result.output
    assert serves(again, tmp_path / "web.log")
    row.passed += 1


def test_cache_disk_full_then_freed(mirror: RuntimeMirror, tmp_path: Path, figures: Figures) -> None:
    """CACHE_DIR's disk is full when the runtime downloads: a clear error and no
    partial file; once space is freed, the same cache builds (all in one mount)."""
    env = secret_env_dir(tmp_path / "env")
    cache = tmp_path / "cache"
    apps = [tmp_path / "app-1", tmp_path / "app-2", tmp_path / "app-3"]
    for app in apps:
        shutil.copytree(FIXTURES / "flask-app", app)
    logs = [tmp_path / "build-1.log", tmp_path / "build-2.log", tmp_path / "build-3.log"]
    row = figures.row("disk full: cache's disk, then freed")
    row.trials += 1
    listing = tmp_path / "cache-after-failure.txt"
    compile_in = f'"{REPO}/bin/compile" "$%d" "$1" "$2" > "$%d" 2>&1; echo $? > "$%d.rc"'
    script = "; ".join([
        'head -c 390M /dev/zero > "$1/filler"',
        compile_in % (3, 6, 6),
        'find "$1" -name "*.part" -o -path "*runtimes/*" > "$9"',
        'rm "$1/filler"',
        compile_in % (4, 7, 7),
        compile_in % (5, 8, 8),
    ])
    on_small_disk(cache, 400, script, cache, env.path, *apps, *logs, listing, mirror_url=mirror.url)
    codes, text = outputs(logs[0])
    row.add_leaks(sum(env.leaks(outputs(log)[1]) for log in logs))
    check_disk_full_error(codes, text, env)
    assert listing.read_text() == ""  # no partial download, no archive
    for log in logs[1:]:
        codes, text = outputs(log)
        assert codes == [0], text
        assert "Traceback" not in text
    assert RESTORED in outputs(logs[2])[1]
    assert serves(apps[2], tmp_path / "web.log")
    row.passed += 1


def test_cache_too_small_for_the_layer_only_warns(mirror: RuntimeMirror, tmp_path: Path, figures: Figures) -> None:
    """Room for the runtime archive but not the install layer: the build succeeds, says
    the cache was not saved, and leaves no half-written layer behind."""
    env = secret_env_dir(tmp_path / "env")
    cache, app, log = tmp_path / "cache", tmp_path / "app", tmp_path / "build.log"
    shutil.copytree(FIXTURES / "flask-app", app)
    listing = tmp_path / "layers.txt"
    row = figures.row("disk full: cache's disk, while saving the layer")
    row.trials += 1
    script = f'{COMPILE}; ls -A "$2/python-buildpack/layers/install" > "$5"'
    on_small_disk(cache, 40, script, app, cache, env.path, log, listing, mirror_url=mirror.url)
    codes, text = outputs(log)
    row.add_leaks(env.leaks(text))
    assert codes == [0], text
    assert "The build cache could not be saved" in text
    assert listing.read_text() == ""
    assert env.leaks(text) == 0
    assert unfinished_layers(cache) == []  # the tmpfs is gone: nothing left behind
    assert serves(app, tmp_path / "web.log")
    row.passed += 1
