"""What bin/compile prints: golden outputs (ANSI stripped, times, sizes, paths and
versions of PyPI packages normalised) for builds and every cheap-to-reach error,
quiet and live logs, colour, the smoke check and bin/report.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/integration/test_build_output.py`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import (
    REPO,
    Result,
    RuntimeMirror,
    assert_user_error,
    copy_fixture,
    host_environment,
    run_bin,
    write_env_dir,
)

pytestmark = pytest.mark.integration

GOLDEN = REPO / "tests" / "golden"


@pytest.fixture(scope="module")
def mirror(runtime_mirror: RuntimeMirror, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A file:// mirror with exactly 3.8.18 and 3.12.1, so listed versions do not
    depend on what other tests packed into the session's mirror."""
    runtime_mirror.ensure("3.8.18", "3.12.1")
    directory = tmp_path_factory.mktemp("golden-mirror")
    manifest = json.loads((runtime_mirror.directory / "manifest.json").read_text())
    kept = [entry for entry in manifest["runtimes"] if entry["version"] in ("3.8.18", "3.12.1")]
    for entry in kept:
        # A link would point outside this mirror, which the buildpack refuses.
        shutil.copy2(runtime_mirror.directory / entry["url"], directory / entry["url"])
    (directory / "manifest.json").write_text(json.dumps({**manifest, "runtimes": kept}))
    return directory.as_uri()


def normalise(text: str, *paths: Path) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    for path, name in sorted(((p, f"<{i}>") for i, p in enumerate(paths)), key=lambda x: -len(str(x[0]))):
        text = text.replace(str(path), name)
    text = re.sub(r"\b\d+\.\d+ (s|MB)\b", r"<n> \1", text)
    text = re.sub(r"logs/[^/\s]+/", "logs/<build>/", text)
    # What PyPI serves changes over time: package lists, releases, downloads.
    text = re.sub(r"(Successfully installed|Successfully uninstalled) .*", r"\1 <packages>", text)
    text = re.sub(r"(Installed|Uninstalled|Audited) \d+ packages? in [\d.]+m?s", r"\1 <n> packages in <t>", text)
    text = re.sub(r"\(from versions: [^)]*\)", "(from versions: <versions>)", text)
    text = re.sub(r"has \d+ releases, the newest: .*", "has <n> releases, the newest: <versions>", text)
    text = re.sub(r"(?m)^ +(Downloading|Using cached) .*\n", "", text)
    # pip's temporary directories: /tmp/pip-install-<random>/<name>_<uuid>
    text = re.sub(r"/pip-([a-z-]+)-[a-z0-9_]{8}/([\w.-]+)_[0-9a-f]{32}", r"/pip-\1-<tmp>/\2_<id>", text)
    return re.sub(r"its last \d+ lines", "its last <n> lines", text)


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"no golden file {path}: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(), f"{name}: output differs from {path}:\n{text}"


def build(mirror: str, app: Path, cache: Path, env_dir: Path | None = None, **env: str) -> Result:
    """bin/compile with this module's mirror, unless env names another (or none)."""
    env.setdefault("PYTHON_RUNTIME_MIRROR", mirror)
    return run_bin("compile", app, cache, *([env_dir] if env_dir else []), env=host_environment(**env))


# --- successful builds ------------------------------------------------------------


def test_golden_cold_build_and_rebuild(mirror: str, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = copy_fixture("flask-app", tmp_path / "one")
    cold = build(mirror, first, cache)
    assert cold.returncode == 0, cold.output
    assert_golden("cold-build", normalise(cold.output, first, cache))
    again = copy_fixture("flask-app", tmp_path / "two")
    rebuild = build(mirror, again, cache)
    assert rebuild.returncode == 0, rebuild.output
    assert_golden("rebuild", normalise(rebuild.output, again, cache))


def headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("----->")]


def test_quiet_by_default_and_live_with_print_build_logs(mirror: str, tmp_path: Path) -> None:
    quiet_app = copy_fixture("flask-app", tmp_path / "quiet")
    quiet = build(mirror, quiet_app, tmp_path / "cache-quiet", SMOKE_CHECK="0")
    live_app = copy_fixture("flask-app", tmp_path / "live")
    env_dir = write_env_dir(tmp_path / "env", {"PRINT_BUILD_LOGS": "true"})
    live = build(mirror, live_app, tmp_path / "cache-live", env_dir, SMOKE_CHECK="0")
    assert quiet.returncode == live.returncode == 0, quiet.output + live.output
    # uv (the default) names each package it installs (` + flask==3.1.2`) and sums up in one line.
    assert " + flask==" not in quiet.output
    assert " + flask==" in live.output
    assert re.search(r"^ {7}Installed \d+ packages in ", quiet.output, re.MULTILINE)
    assert headings(normalise(quiet.output)) == headings(normalise(live.output))
    # The quiet build's installer output is in its step log, in the cache.
    step_logs = list((tmp_path / "cache-quiet" / "python-buildpack" / "logs").glob("*/*installing-dependencies.log"))
    assert len(step_logs) == 1
    assert " + flask==" in step_logs[0].read_text()


def test_a_failed_command_shows_its_hidden_output(mirror: str, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    (app / "leanengine.yaml").write_text(
        "install:\n  - {use: default}\n  - 'for i in 1 2 3; do echo line-$i; done; echo boom >&2; exit 3'\n")
    result = build(mirror, app, tmp_path / "cache")
    assert_golden("install-command-failed", normalise(result.output, app, tmp_path / "cache"))
    assert "line-1\n" in result.stdout
    assert "boom" in result.stdout


def test_colour_on_a_terminal_only_and_never_with_no_color(mirror: str, tmp_path: Path) -> None:
    def through_a_terminal(**env: str) -> str:
        app = copy_fixture("flask-app", tmp_path / f"tty-{len(env)}")
        (app / ".python-version").write_text("pypy3.10\n")
        command = f"{REPO / 'bin' / 'compile'} {app} {tmp_path / 'cache'}"
        completed = subprocess.run(["script", "-qec", command, "/dev/null"],
                                   env=host_environment(PYTHON_RUNTIME_MIRROR=mirror, **env),
                                   capture_output=True, text=True, timeout=120, check=False)
        return completed.stdout

    assert "\x1b[1;31mError:" in through_a_terminal()
    assert "\x1b[" not in through_a_terminal(NO_COLOR="1")
    # A successful build on a terminal draws the download's progress in place.
    app = copy_fixture("flask-app", tmp_path / "tty-ok")
    completed = subprocess.run(["script", "-qec", f"{REPO / 'bin' / 'compile'} {app} {tmp_path / 'c2'}",
                                "/dev/null"], env=host_environment(PYTHON_RUNTIME_MIRROR=mirror, SMOKE_CHECK="0"),
                               capture_output=True, timeout=300, check=False)  # bytes: keep the \r
    assert completed.returncode == 0, completed.stdout
    assert b"\r       Downloading cpython-3.12.1-x86_64-unknown-linux-gnu-install_only.tar.gz: " in completed.stdout
    piped = build(mirror, copy_fixture("flask-app", tmp_path / "piped"), tmp_path / "cache",
                  SMOKE_CHECK="0")
    assert "\x1b[" not in piped.stdout + piped.stderr


# --- errors --------------------------------------------------------------------------

Setup = Callable[[Path], dict[str, str]]


def writes(name: str, content: str, **env: str) -> Setup:
    def setup(app: Path) -> dict[str, str]:
        (app / name).write_text(content)
        return env
    return setup


def removes(name: str) -> Setup:
    def setup(app: Path) -> dict[str, str]:
        (app / name).unlink()
        return {}
    return setup


def links_out(app: Path) -> dict[str, str]:
    (app / ".python-version").unlink()
    (app / ".python-version").symlink_to("/etc/hostname")
    return {}


ERROR_SCENARIOS: dict[str, Setup] = {
    "python-version::invalid": writes(".python-version", "latest\n"),
    "python-version::empty": writes(".python-version", "# set me\n\n"),
    "python-version::system": writes(".python-version", "system\n"),
    "python-version::unsupported-implementation": writes(".python-version", "pypy3.10\n"),
    "python-version::not-available": writes(".python-version", "3.10\n"),
    "python-version::unreadable": writes(".python-version", "3.12\x00\x01\x02\n"),
    "python-version::incompatible-package": writes("requirements.txt", "leancloud>=2.9.1,<4\n"),
    "python-version::misspelled-file": writes(".python-version.txt", "3.12\n"),
    "app::unsafe-file": links_out,
    "app::no-entry-point": removes("wsgi.py"),
    "app::no-application": writes("wsgi.py", "app = None\n"),
    "leanengine-yaml::unreadable": writes("leanengine.yaml", "# padding\n" * 30_000),
    "leanengine-yaml::syntax": writes("leanengine.yaml", "run: [unclosed\n"),
    "leanengine-yaml::bad-value": writes("leanengine.yaml", "startupTimeout: forever\nrun: 3\n"),
    "leanengine-yaml::other-runtime": writes("leanengine.yaml", "runtime: nodejs\n"),
    "leanengine-yaml::build-root-missing": writes("leanengine.yaml", "buildRoot: backend\n"),
    "leanengine-yaml::require-missing": writes("leanengine.yaml", "install:\n  - require: [data.bin]\n"),
    "system-dependencies::unknown": writes("leanengine.yaml", "systemDependencies: [imagemagik]\n"),
    "system-dependencies::discontinued": writes("leanengine.yaml", "systemDependencies: [phantomjs]\n"),
    "system-dependencies::needs-newer-python": writes(
        "leanengine.yaml", "systemDependencies: [python-talib]\n", PYTHON_DEFAULT_VERSION="3.8"),
    "config::bad-installer": writes("requirements.txt", "Flask\n", PYTHON_INSTALLER="conda"),
    "env::refused-variable": writes("requirements.txt", "Flask\n", ENV_DIR_PYTHONPATH="/opt/lib"),
    "mirror::not-configured": writes("requirements.txt", "Flask\n", PYTHON_RUNTIME_MIRROR=""),
    "mirror::bad-url": writes("requirements.txt", "Flask\n", PYTHON_RUNTIME_MIRROR="ftp://mirror/"),
    "mirror::bad-timeout": writes("requirements.txt", "Flask\n", PYTHON_RUNTIME_MIRROR_TIMEOUT="soon"),
    "pip::no-such-package": writes("requirements.txt", "leanengine-no-such-package-xyz==1.0\n"),
    "pip::no-matching-version": writes("requirements.txt", "Flask==0.0.1\n"),
    # Port 9 (discard) has no listener here; a fixed port keeps the golden output stable.
    "git::unreachable": writes("requirements.txt", "leanengine-git-demo @ git+http://127.0.0.1:9/org/repo.git\n"),
    "build::command-failed": writes("leanengine.yaml", "build: 'echo building; false'\n"),
}


@pytest.mark.parametrize("code", sorted(ERROR_SCENARIOS))
def test_golden_errors(mirror: str, tmp_path: Path, code: str) -> None:
    app = copy_fixture("flask-app", tmp_path)
    if code in ("python-version::not-available", "python-version::misspelled-file") or \
            code.startswith("system-dependencies::needs"):
        (app / ".python-version").unlink()
    env = ERROR_SCENARIOS[code](app)
    env_dir = write_env_dir(tmp_path / "env", {k[len("ENV_DIR_"):]: v for k, v in env.items()
                                               if k.startswith("ENV_DIR_")})
    process_env = {k: v for k, v in env.items() if not k.startswith("ENV_DIR_")}
    result = build(mirror, app, tmp_path / "cache", env_dir, **process_env)
    assert_user_error(result, code)
    assert_golden("errors/" + code.replace("::", "--"), normalise(result.output, app, tmp_path))


def test_every_error_code_is_documented_and_tested() -> None:
    source = (REPO / "lib" / "python_buildpack" / "reporting" / "errors.py").read_text()
    codes = set(re.findall(r'"([a-z-]+::[a-z-]+)"', source))
    for table, prefix in (("_PIP_CAUSES", "pip"), ("_GIT_FAILURES", "git")):  # codes made from a cause
        block = source[source.index(f"{table} = {{"):]
        block = block[:block.index("\n}\n")]
        codes |= {f"{prefix}::{cause}" for cause in re.findall(r'^    "([a-z-]+)": \(', block, re.MULTILINE)
                  if cause != "other"}
    readme = (REPO / "README.md").read_text()
    tests = "\n".join(path.read_text() for path in (REPO / "tests").rglob("*.py"))
    assert sorted(code for code in codes if f"`{code}`" not in readme) == []
    def tested(code: str) -> bool:
        cause = code.removeprefix("pip::")
        return code in tests or (code.startswith("pip::") and f'"{cause}"' in tests)

    assert sorted(code for code in codes if not tested(code)) == []


def test_golden_command_line_errors(tmp_path: Path) -> None:
    usage = run_bin("compile")
    missing = run_bin("compile", tmp_path / "no-such-app", tmp_path / "cache")
    assert usage.returncode == missing.returncode == 1
    assert "[cli::usage]" in usage.stderr
    assert "[cli::build-dir-missing]" in missing.stderr
    assert_golden("errors/cli--usage", normalise(usage.output))
    assert_golden("errors/cli--build-dir-missing", normalise(missing.output, tmp_path))


def test_golden_release_after_a_failed_build(mirror: str, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    (app / ".python-version").write_text("system\n")
    assert build(mirror, app, tmp_path / "cache").returncode == 1
    result = run_bin("release", app)
    assert_user_error(result, "release::build-failed")
    assert_golden("errors/release--build-failed", normalise(result.output, app))


# --- the smoke check ------------------------------------------------------------------


def smoke_app(tmp_path: Path, files: dict[str, str]) -> Path:
    app = copy_fixture("flask-app", tmp_path)
    for name, content in files.items():
        (app / name).write_text(content)
    return app


def test_smoke_check_catches_an_app_that_raises_at_import(mirror: str, tmp_path: Path) -> None:
    app = smoke_app(tmp_path, {"wsgi.py": "from flask import Flask\napplication = Flask(__name__)\n"
                                          "raise RuntimeError('DATABASE_URL is not set')\n"})
    result = build(mirror, app, tmp_path / "cache")
    assert_user_error(result, "smoke-check::exited")
    assert "RuntimeError: DATABASE_URL is not set" in result.stderr
    assert_golden("smoke-exited", re.sub(r"(?m)^ !     \s+\|.*\n", "", normalise(result.output, app, tmp_path)))


def test_smoke_check_warns_about_an_app_on_loopback_only_that_ignores_sigterm(mirror: str, tmp_path: Path
                                                                              ) -> None:
    """Two warnings, one build: neither changes the verdict."""
    command = "trap '' TERM; python -m http.server --bind 127.0.0.1 $LEANCLOUD_APP_PORT"
    app = smoke_app(tmp_path, {"leanengine.yaml": f"run: {json.dumps(command)}\n"})
    result = build(mirror, app, tmp_path / "cache")
    assert result.returncode == 0, result.output
    assert "Warning: The app listens on 127.0.0.1 only" in result.stderr
    assert "Warning: The app ignores SIGTERM" in result.stderr
    assert "kills it with SIGKILL 10 s later" in result.stderr
    assert "GET / answered 200" in result.stdout
    report = yaml.safe_load(run_bin("report", app).stdout)
    assert report["smoke_check"] == "passed: GET / 200 (127.0.0.1 only); ignores SIGTERM"


def test_smoke_check_catches_an_app_that_never_answers(mirror: str, tmp_path: Path) -> None:
    silent = ("python -c 'import os, socket, time; s = socket.socket(); s.bind((\"0.0.0.0\","
              " int(os.environ[\"LEANCLOUD_APP_PORT\"]))); s.listen(); time.sleep(600)'")
    app = smoke_app(tmp_path, {"leanengine.yaml": f"startupTimeout: 15\nrun: {json.dumps(silent)}\n"})
    result = build(mirror, app, tmp_path / "cache")
    assert_user_error(result, "smoke-check::no-answer")
    assert "startupTimeout (15 s)" in result.stderr
    assert "/: no answer" in result.stderr


def test_smoke_check_catches_error_answers_and_can_be_skipped(mirror: str, tmp_path: Path) -> None:
    app = smoke_app(tmp_path, {"wsgi.py": "def application(environ, start_response):\n"
                                          "    start_response('404 Not Found', [])\n    return [b'']\n"})
    result = build(mirror, app, tmp_path / "cache")
    assert_user_error(result, "smoke-check::bad-status")
    assert "/ answered 404, /__engine/1/ping answered 404" in result.stderr
    skipped = build(mirror, app, tmp_path / "cache", SMOKE_CHECK="0")
    assert skipped.returncode == 0, skipped.output
    assert "Smoke check skipped (SMOKE_CHECK=0)" in skipped.output


# --- bin/report --------------------------------------------------------------------------


def test_report_after_a_build_and_after_a_failure(mirror: str, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path / "ok")
    assert build(mirror, app, tmp_path / "cache").returncode == 0
    report = yaml.safe_load(run_bin("report", app).stdout)
    assert report["outcome"] == "succeeded"
    assert report["python_version"] == "3.12.1"
    assert report["installer"] == "uv"
    assert report["cache"]["dependencies"].startswith("installed")
    assert report["smoke_check"] == "passed: GET / 200"
    assert [step["name"] for step in report["steps"]][-1] == "Smoke check: starting the web command once"
    assert report["slug_size_bytes"] > 10_000_000
    broken = copy_fixture("flask-app", tmp_path / "broken")
    (broken / ".python-version").write_text("pypy3.10\n")
    assert build(mirror, broken, tmp_path / "cache").returncode == 1
    failed = yaml.safe_load(run_bin("report", broken).stdout)
    assert failed["outcome"] == "failed"
    assert failed["failure_code"] == "python-version::unsupported-implementation"
    missing = run_bin("report", tmp_path)
    assert missing.returncode == 1
    assert "[report::missing]" in missing.stderr
    shutil.rmtree(tmp_path / "ok")
