"""Builds at the same time on one CACHE_DIR: four different apps (two Python
lines) and two builds of one app. All succeed and serve; the cache holds only
finished layers afterwards, and a second round on it succeeds too."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from helpers import (
    FIXTURES,
    Result,
    RuntimeMirror,
    compile_app,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)

from stress.support import FULL, Figures, secret_env_dir, unfinished_layers

pytestmark = [pytest.mark.stress, pytest.mark.integration]
# fixture, .python-version to write (None: the fixture's own)
FULL_SET = [("flask-app", None), ("flask-app", None), ("flask-own-gunicorn-app", None),
            ("yaml-install-build-app", None), ("require-app", None), ("flask-any-python", "3.11")]
QUICK_SET = [("flask-app", None), ("flask-app", None), ("flask-any-python", "3.11")]


def copy_app(name: str, version: str | None, destination: Path) -> Path:
    shutil.copytree(FIXTURES / name, destination)
    if version:
        (destination / ".python-version").write_text(version + "\n")
    return destination


def build_all_at_once(mirror_url: str, apps: list[Path], cache: Path, env_dir: Path) -> list[Result]:
    results: dict[int, Result] = {}

    def build(index: int) -> None:
        results[index] = compile_app(mirror_url, apps[index], cache, env_dir)

    threads = [threading.Thread(target=build, args=(index,)) for index in range(len(apps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(900)
    return [results[index] for index in range(len(apps))]


def test_concurrent_builds_on_one_cache(runtime_mirror: RuntimeMirror, tmp_path: Path, figures: Figures) -> None:
    runtime_mirror.ensure("3.11.7", "3.12.1")
    apps_set = FULL_SET if FULL else QUICK_SET
    cache = tmp_path / "cache"
    env = secret_env_dir(tmp_path / "env")
    row = figures.row(f"{len(apps_set)} builds at once on one cache, 2 rounds")
    failures: list[str] = []
    for round_ in range(2):
        apps = [copy_app(name, version, tmp_path / f"r{round_}-{index}-{name}")
                for index, (name, version) in enumerate(apps_set)]
        results = build_all_at_once(runtime_mirror.url, apps, cache, env.path)
        for app, result in zip(apps, results):
            row.trials += 1
            row.add_leaks(env.leaks(result.output))
            problem = served(app, result, tmp_path / f"{app.name}.log")
            if problem:
                failures.append(f"{app.name}: {problem}")
            else:
                row.passed += 1
        assert unfinished_layers(cache) == []
        assert list((cache / "python-buildpack").rglob("*.part")) == []
    assert failures == []
    assert row.secrets_leaked == 0


def served(app: Path, result: Result, log: Path) -> str | None:
    if result.returncode != 0 or "Traceback" in result.output:
        return "the build failed:\n" + result.output
    with start_slug(app, web_command(app), log) as running:
        status, body = wait_for_http(running, "/")
        stop_with_sigterm(running)
    return None if status == 200 else f"answered {status} {body!r}"
