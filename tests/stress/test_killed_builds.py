"""kill -9 of the whole bin/compile process group at seeded random moments of each
phase; after every kill a normal build on the same CACHE_DIR succeeds and its slug
serves over HTTP, and no unfinished layer is ever reused.
`make stress` runs 30 trials (STRESS_SEED picks the moments), `make test` 3."""

from __future__ import annotations

import functools
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pytest
from helpers import (
    FIXTURES,
    REPO,
    QuietHandler,
    RuntimeMirror,
    compile_app,
    host_environment,
    http_server,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)

from stress.support import SEED, Figure, Figures, SecretEnv, secret_env_dir, trials, unfinished_layers

pytestmark = [pytest.mark.stress, pytest.mark.integration]


@dataclass(frozen=True)
class Phase:
    name: str
    marker: str  # the build-log line that starts it
    fresh_download: bool = False  # empty the cached archives first, so the download happens


PHASES = (
    Phase("runtime download", "-----> Installing Python", fresh_download=True),
    Phase("extraction", "Using the cached runtime archive"),
    Phase("environment (pip, setuptools)", "-----> Installing dependencies"),
    Phase("pip install", "Collecting"),
    Phase("user commands", "$ sleep"),
)


class SlowMirror(QuietHandler):
    """The real mirror at about 10 MB/s, so a kill can land inside the download."""

    def copyfile(self, source: BinaryIO, outputfile: BinaryIO) -> None:  # type: ignore[override]
        try:
            while chunk := source.read(256 * 1024):
                outputfile.write(chunk)
                time.sleep(0.025)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the build was killed mid-download: that is the test


def app_for_trial(source: Path, workdir: Path, trial: int) -> Path:
    """flask-app with an install command unique to the trial (so every trial installs
    anew rather than restoring) and slow user commands to be killed in."""
    app = workdir / f"trial-{trial}-{len(list(workdir.glob(f'trial-{trial}-*')))}"
    shutil.copytree(source, app)
    (app / "leanengine.yaml").write_text(
        f"install:\n  - use: default\n  - sleep 0.3 && echo trial-{trial} > installed.txt\n"
        "build:\n  - sleep 0.5 && echo built > built.txt\n")
    return app


def kill_during(mirror_url: str, app: Path, cache: Path, env: SecretEnv, marker: str, delay: float
                ) -> tuple[bool, str]:
    """Run bin/compile, SIGKILL its process group `delay` seconds after `marker`;
    return whether it was killed (not already done) and its output."""
    process = subprocess.Popen(
        [str(REPO / "bin" / "compile"), str(app), str(cache), str(env.path)],
        # Live logs: the phase markers (pip's "Collecting", the command's "$ sleep")
        # must reach the pipe as they happen, not only in the step log.
        env=host_environment(PYTHON_RUNTIME_MIRROR=mirror_url, PRINT_BUILD_LOGS="true"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    lines: list[str] = []
    seen = threading.Event()

    def read() -> None:
        for line in process.stdout:  # type: ignore[union-attr]
            lines.append(line)
            if marker in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    while not seen.wait(0.05) and process.poll() is None:
        pass
    time.sleep(delay)
    killed = process.poll() is None
    if killed:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    reader.join(10)
    process.stdout.close()
    return killed, "".join(lines)


def test_killed_builds_leave_a_cache_the_next_build_can_use(runtime_mirror: RuntimeMirror, tmp_path: Path,
                                                           figures: Figures) -> None:
    runtime_mirror.ensure("3.12.1")
    source = FIXTURES / "flask-app"
    cache = tmp_path / "cache"
    env = secret_env_dir(tmp_path / "env")
    rng = random.Random(SEED)  # noqa: S311 - seeded on purpose: the moments are reproducible
    count = trials(quick=3, full=30)
    row = figures.row("kill -9 during a build, then rebuild and serve")
    handler = functools.partial(SlowMirror, directory=str(runtime_mirror.directory))
    failures: list[str] = []
    kills = 0
    with http_server(runtime_mirror.directory, handler) as mirror_url:
        for trial in range(count):
            phase = PHASES[trial * 2 % len(PHASES)]  # a few trials still spread over the phases
            delay = rng.uniform(0, 0.8)
            if phase.fresh_download:
                shutil.rmtree(cache / "python-buildpack" / "runtimes", ignore_errors=True)
            row.trials += 1
            killed, output = kill_during(mirror_url, app_for_trial(source, tmp_path, trial), cache, env,
                                         phase.marker, delay)
            kills += killed
            row.add_leaks(env.leaks(output))
            problem = check_recovery(mirror_url, source, tmp_path, cache, env, trial, row)
            if problem:
                failures.append(f"trial {trial} ({phase.name}, +{delay:.2f}s, killed={killed}): {problem}")
            else:
                row.passed += 1
    assert failures == []
    assert row.secrets_leaked == 0
    assert kills >= count * 0.8, f"only {kills} of {count} builds were still running when killed"


def check_recovery(mirror_url: str, source: Path, workdir: Path, cache: Path, env: SecretEnv,
                   trial: int, row: Figure) -> str | None:
    """The build after a kill: succeeds on the same cache, serves, leaves no debris."""
    unfinished = unfinished_layers(cache)
    if unfinished:
        return f"unfinished layers in place: {unfinished}"
    app = app_for_trial(source, workdir, trial)
    result = compile_app(mirror_url, app, cache, env.path)
    row.add_leaks(env.leaks(result.output))
    if result.returncode != 0:
        return "the next build failed:\n" + result.output
    leftovers = list((cache / "python-buildpack").rglob("*.part"))
    if "Restored Python and dependencies" not in result.output:  # it saved a layer: debris swept
        leftovers += list((cache / "python-buildpack").rglob(".staging-*"))
    if leftovers:
        return f"partial files left: {leftovers}"
    with start_slug(app, web_command(app), workdir / f"web-{trial}.log") as running:
        status, body = wait_for_http(running, "/")
        stop_with_sigterm(running)
    if (status, body) != (200, "Hello from Flask on Python 3.12\n"):
        return f"the slug answered {status} {body!r}"
    shutil.rmtree(app)
    return None
