"""Every leanengine.yaml key, built for real: fixtures that build and serve, or fail as they should."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import (
    Result,
    RuntimeMirror,
    assert_user_error,
    compile_app,
    copy_fixture,
    move_slug,
    run_bin,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
    write_env_dir,
)

pytestmark = pytest.mark.integration


def build_ok(mirror: RuntimeMirror, app: Path, cache: Path, env_dir: Path | None = None,
             **env: str) -> Result:
    result = compile_app(mirror.url, app, cache, env_dir, **env)
    assert result.returncode == 0, result.output
    assert "Traceback" not in result.output
    return result


def serve(slug: Path, path: str, log: Path) -> tuple[int, str]:
    with start_slug(slug, web_command(slug), log) as app:
        answer = wait_for_http(app, path)
        stop_with_sigterm(app)
    return answer


@pytest.fixture
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.11.7", "3.12.1")
    return runtime_mirror


def test_install_default_plus_command_and_build_list(mirror: RuntimeMirror, shared_cache: Path,
                                                     tmp_path: Path) -> None:
    app = copy_fixture("yaml-install-build-app", tmp_path / "build")
    result = build_ok(mirror, app, shared_cache)
    assert "$ python -c \"import flask" in result.output
    assert "-----> Running the build commands" in result.output
    slug = move_slug(app, tmp_path / "moved")
    status, body = serve(slug, "/", tmp_path / "web.log")
    assert (status, body) == (200, "flask flask\nbuilt with Python 3.12.1\n")


def test_require_names_a_local_package(mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path) -> None:
    app = copy_fixture("require-app", tmp_path / "build")
    build_ok(mirror, app, shared_cache)
    slug = move_slug(app, tmp_path / "moved")
    assert serve(slug, "/", tmp_path / "web.log") == (200, "hello from a required local package\n")


def test_require_of_a_missing_file_fails(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("require-app", tmp_path)
    (app / "leanengine.yaml").write_text("install:\n  - require: [vendor/nothing-here]\n  - use: default\n")
    assert_user_error(compile_app(mirror.url, app, tmp_path / "cache"), "leanengine-yaml::require-missing",
                 '"vendor/nothing-here"')


def test_build_as_a_string(mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path / "build")
    (app / "leanengine.yaml").write_text("build: echo from-build-string > /dev/null && python -V\n")
    result = build_ok(mirror, app, shared_cache)
    assert "Python 3.12.1" in result.output


def test_django_collectstatic_in_build_is_served(mirror: RuntimeMirror, shared_cache: Path,
                                                 tmp_path: Path) -> None:
    app = copy_fixture("django-collectstatic-app", tmp_path / "build")
    result = build_ok(mirror, app, shared_cache, PRINT_BUILD_LOGS="true")
    assert "static file copied to" in result.output or "static files copied to" in result.output
    slug = move_slug(app, tmp_path / "moved")
    with start_slug(slug, web_command(slug), tmp_path / "web.log") as running:
        assert wait_for_http(running, "/") == (200, "Django is up\n")
        assert wait_for_http(running, "/static/pages/app.css") == (200, "body { color: #2a6; }\n")
        stop_with_sigterm(running)


def test_build_root_in_a_monorepo(mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path) -> None:
    upload = copy_fixture("monorepo-app", tmp_path / "build")
    assert run_bin("detect", upload).stdout == "Python\n"
    result = build_ok(mirror, upload, shared_cache)
    assert "-----> Python 3.11.7" in result.output  # backend/.python-version
    slug = move_slug(upload, tmp_path / "moved")
    assert web_command(slug).startswith("cd backend && gunicorn")
    assert serve(slug, "/", tmp_path / "web.log") == (200, "backend in backend on 3.11, build ran: True\n")


def test_build_root_that_escapes_or_is_missing(mirror: RuntimeMirror, tmp_path: Path) -> None:
    upload = copy_fixture("monorepo-app", tmp_path)
    (upload / "leanengine.yaml").write_text("buildRoot: services/api\n")
    assert_user_error(compile_app(mirror.url, upload, tmp_path / "c1"), "leanengine-yaml::build-root-missing")
    (upload / "escape").symlink_to("/etc")
    (upload / "leanengine.yaml").write_text("buildRoot: escape\n")
    assert_user_error(compile_app(mirror.url, upload, tmp_path / "c2"), "leanengine-yaml::build-root-missing")
    (upload / "leanengine.yaml").write_text("buildRoot: ../x\n")
    assert_user_error(compile_app(mirror.url, upload, tmp_path / "c3"), "leanengine-yaml::bad-value",
                 "a subdirectory of the app")


@pytest.mark.parametrize(("expose", "seen"), [(True, "MY_SETTING is visible"), (False, "MY_SETTING is not visible")])
def test_expose_environments_on_build(mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path,
                                      expose: bool, seen: str) -> None:
    app = copy_fixture("flask-app", tmp_path / "build")
    (app / "leanengine.yaml").write_text(
        f"exposeEnvironmentsOnBuild: {'true' if expose else 'false'}\n"
        "build: python -c \"import os; print('MY_SETTING is ' + ('visible' if 'MY_SETTING' in os.environ"
        " else 'not visible'))\"\n")
    env_dir = write_env_dir(tmp_path / "env", {"MY_SETTING": "some-app-setting-value"})
    result = build_ok(mirror, app, shared_cache, env_dir, PRINT_BUILD_LOGS="true")
    assert seen in result.output


def test_echoed_secret_is_masked(mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path / "build")
    (app / "leanengine.yaml").write_text("exposeEnvironmentsOnBuild: true\n"
                                         "build: echo \"the key is $LEANCLOUD_APP_MASTER_KEY\"\n")
    env_dir = write_env_dir(tmp_path / "env", {"LEANCLOUD_APP_MASTER_KEY": "Mk-9f8e7d6c5b4a"})
    cache = tmp_path / "cache"
    live = build_ok(mirror, app, cache, env_dir, PRINT_BUILD_LOGS="true")
    assert "the key is [redacted]" in live.output
    assert "Mk-9f8e7d6c5b4a" not in live.output
    # Quiet, the command's output is in the step log: redacted there too.
    rebuilt = copy_fixture("flask-app", tmp_path / "again")
    shutil.copy(app / "leanengine.yaml", rebuilt / "leanengine.yaml")
    quiet = build_ok(mirror, rebuilt, cache, env_dir)
    assert "Mk-9f8e7d6c5b4a" not in quiet.output
    step_logs = "".join(log.read_text() for log in (cache / "python-buildpack" / "logs").rglob("*.log"))
    assert "the key is [redacted]" in step_logs
    assert "Mk-9f8e7d6c5b4a" not in step_logs


def test_failing_install_command(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    (app / "leanengine.yaml").write_text("install:\n  - use: default\n  - echo about to fail; exit 3\n")
    result = compile_app(mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "install::command-failed", "`echo about to fail; exit 3` exited with code 3",
                 "about to fail")


def test_refused_variable(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    env_dir = write_env_dir(tmp_path / "env", {"PYTHONHOME": "/opt/python"})
    result = compile_app(mirror.url, app, tmp_path / "cache", env_dir)
    assert_user_error(result, "env::refused-variable", "PYTHONHOME", "Remove PYTHONHOME")


@pytest.mark.parametrize(
    ("content", "code", "phrase"),
    [
        ("run: python app.py\n  broken: [\n", "leanengine-yaml::syntax", "leanengine.yaml line"),
        ("startupTimeout: ten\n", "leanengine-yaml::bad-value",
         'leanengine.yaml line 1: "startupTimeout" must be a number from 15 to 120, got "ten"'),
        ("run:\n  - python\n  - app.py\n", "leanengine-yaml::bad-value", '"run" must be a non-empty string'),
        ("runtime: ruby\n", "leanengine-yaml::bad-value", '"runtime" must be one of'),
    ],
)
def test_broken_yaml_and_wrong_types(mirror: RuntimeMirror, tmp_path: Path, content: str, code: str,
                                     phrase: str) -> None:
    app = copy_fixture("flask-app", tmp_path)
    (app / "leanengine.yaml").write_text(content)
    assert_user_error(compile_app(mirror.url, app, tmp_path / "cache"), code, phrase)


def test_every_wrong_value_is_reported_in_one_error(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    (app / "leanengine.yaml").write_text("startupTimeout: ten\nstartuptimeout: 40\nrun: [python, app.py]\n"
                                         "install:\n  - {use: custom}\n")
    result = compile_app(mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "leanengine-yaml::bad-value", "leanengine.yaml has 3 wrong values",
                      'leanengine.yaml line 1: "startupTimeout" must be a number from 15 to 120, got "ten"\n'
                      ' !     leanengine.yaml line 3: "run" must be a non-empty string, got a list of 2 items\n'
                      ' !     leanengine.yaml line 5: "install[0].use" must be "default", got "custom"\n')
    assert 'line 2: unknown key "startuptimeout" is ignored. Did you mean "startupTimeout"?' in result.stderr


def test_unknown_key_warns_and_run_without_port_warns(mirror: RuntimeMirror, shared_cache: Path,
                                                      tmp_path: Path) -> None:
    app = copy_fixture("run-command-app", tmp_path / "build")
    (app / "leanengine.yaml").write_text("run: python server.py\nstartuptimeout: 40\n")
    result = build_ok(mirror, app, shared_cache)
    assert 'Did you mean "startupTimeout"?' in result.stderr
    assert "does not mention LEANCLOUD_APP_PORT" in result.stderr


def test_startup_timeout_and_functions_mode_reach_the_release(tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    (app / "leanengine.yaml").write_text("startupTimeout: 90\nfunctionsMode: disabled\n")
    release = run_bin("release", app)
    assert "leanengine:\n  startupTimeout: 90\n  functionsMode: disabled\n" in release.stdout


def test_functions_mode_strict(mirror: RuntimeMirror, shared_cache: Path, tmp_path: Path) -> None:
    sdk_app = copy_fixture("leancloud-sdk-app", tmp_path / "sdk")
    (sdk_app / "leanengine.yaml").write_text("functionsMode: strict\n")
    result = build_ok(mirror, sdk_app, shared_cache)
    assert "GET /__engine/1/ping answers 200" in result.output

    plain = copy_fixture("flask-app", tmp_path / "plain")
    (plain / "leanengine.yaml").write_text("functionsMode: strict\n")
    assert_user_error(compile_app(mirror.url, plain, shared_cache), "leanengine-yaml::functions-mode-without-sdk",
                 "`leancloud` package is not installed")
