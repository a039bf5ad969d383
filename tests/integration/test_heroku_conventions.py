"""Apps written for Heroku-style buildpacks build unchanged: a Procfile's web
line starts the app, bin/pre_compile and bin/post_compile run, nltk.txt's
corpora are downloaded into the slug, Django's collectstatic runs. Each app is
built, moved, served and stopped with SIGTERM."""

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
    http_server,
    move_slug,
    nltk_index,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
    write_env_dir,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.12.1")
    return runtime_mirror


def build(mirror: RuntimeMirror, app: Path, cache: Path, env_dir: Path | None = None, **env: str) -> Result:
    return compile_app(mirror.url, app, cache, env_dir, SMOKE_CHECK="0", **env)


def serve(slug: Path, where: Path, path: str = "/") -> tuple[int, str]:
    """Move the slug, start its web command as the platform does, GET `path`, SIGTERM it."""
    moved = move_slug(slug, where)
    with start_slug(moved, web_command(moved), where / "app.log") as running:
        answer = wait_for_http(running, path)
        assert stop_with_sigterm(running) < 10
    return answer


def no_install_layer(cache: Path) -> bool:
    layers = cache / "python-buildpack" / "layers" / "install"
    return not layers.exists() or not any(layers.iterdir())


def test_a_procfile_only_app_serves_its_web_line_on_the_platforms_port(mirror: RuntimeMirror,
                                                                        tmp_path: Path) -> None:
    app = copy_fixture("procfile-app", tmp_path / "app")  # no wsgi.py: `web: gunicorn app:app --bind 0.0.0.0:$PORT`
    assert not (app / "wsgi.py").exists()
    result = build(mirror, app, tmp_path / "cache")
    assert result.returncode == 0, result.output
    assert "web: from the Procfile line 3" in result.output
    assert serve(app, tmp_path / "moved") == (200, "Hello from a Procfile app\n")


def test_post_compile_runs_with_bash_and_its_file_is_served(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("post-compile-app", tmp_path / "app")
    result = build(mirror, app, tmp_path / "cache")
    assert result.returncode == 0, result.output
    assert "Running bin/post_compile" in result.output
    assert "leanengine.yaml `build:`" in result.output  # where the same goes on LeanEngine
    assert serve(app, tmp_path / "moved") == (200, "built: by bin/post_compile\n")


def test_a_failing_pre_compile_fails_the_build_before_anything_is_installed(mirror: RuntimeMirror,
                                                                           tmp_path: Path) -> None:
    app = copy_fixture("post-compile-app", tmp_path / "app")
    hook = app / "bin" / "pre_compile"
    hook.write_text("#!/bin/sh\necho preparing\nexit 3\n")
    hook.chmod(0o755)
    cache = tmp_path / "cache"
    result = build(mirror, app, cache)
    assert_user_error(result, "install::command-failed", "bin/pre_compile failed", "exited with code 3")
    assert "Installing Python" not in result.output
    assert no_install_layer(cache)


def test_nltk_corpora_are_downloaded_into_the_slug_and_cached(mirror: RuntimeMirror, tmp_path: Path) -> None:
    # A local NLTK data server of ours: the registry has no NLTK data. The fixture
    # pins nltk 3.9.2: nltk 3.10's downloader refuses loopback addresses.
    served = tmp_path / "nltk-server"
    served.mkdir()
    with http_server(served) as url:
        nltk_index(served, url)
        cache = tmp_path / "cache"
        app = copy_fixture("nltk-app", tmp_path / "app")
        result = build(mirror, app, cache, NLTK_DATA_URL=f"{url}index.xml")
        assert result.returncode == 0, result.output
        assert "From nltk.txt (Heroku's convention): tiny_corpus" in result.output
        again = copy_fixture("nltk-app", tmp_path / "again")
        restored = build(mirror, again, cache, NLTK_DATA_URL=f"{url}index.xml")
        assert "Restored from the cache: the same list" in restored.output
        unknown = copy_fixture("nltk-app", tmp_path / "unknown")
        (unknown / "nltk.txt").write_text("tiny_corpus\nno_such_corpus\n")
        failed = build(mirror, unknown, cache, NLTK_DATA_URL=f"{url}index.xml")
        assert_user_error(failed, "nltk::unknown-corpus", "no_such_corpus")
    # Served with the server gone: the corpus is in the slug, found through NLTK_DATA.
    assert serve(app, tmp_path / "moved") == (200, "corpus: a tiny corpus served by the test\n")
    # Another index (not cached), and nothing listening there any more.
    unreachable = build(mirror, copy_fixture("nltk-app", tmp_path / "down"), cache,
                        NLTK_DATA_URL=f"{url}other/index.xml")
    assert_user_error(unreachable, "nltk::download-failed", "could not be downloaded", "Error loading")


def django_app(tmp_path: Path) -> Path:
    """The Django fixture without its own `build:` collectstatic: the buildpack's to run."""
    app = copy_fixture("django-collectstatic-app", tmp_path / "app")
    (app / "leanengine.yaml").unlink()
    return app


def test_collectstatic_runs_and_the_static_file_is_served_after_the_move(mirror: RuntimeMirror,
                                                                          tmp_path: Path) -> None:
    app = django_app(tmp_path)
    result = build(mirror, app, tmp_path / "cache")
    assert result.returncode == 0, result.output
    assert "DISABLE_COLLECTSTATIC=1 in the app's environment turns it off" in result.output
    assert "Static files collected into staticfiles" in result.output
    status, body = serve(app, tmp_path / "moved", "/static/pages/app.css")
    assert status == 200
    assert "body" in body


def test_disable_collectstatic(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = django_app(tmp_path)
    env_dir = write_env_dir(tmp_path / "env", {"DISABLE_COLLECTSTATIC": "1"})
    result = build(mirror, app, tmp_path / "cache", env_dir)
    assert result.returncode == 0, result.output
    assert "Django collectstatic: skipped (DISABLE_COLLECTSTATIC=1" in result.output
    assert not (app / "staticfiles").exists()
    assert serve(app, tmp_path / "moved", "/static/pages/app.css")[0] == 404


def test_a_failing_collectstatic_fails_the_build_and_quotes_django(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = django_app(tmp_path)
    settings = app / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + 'STORAGES = {"staticfiles": {"BACKEND":'
                        ' "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}\n')
    css = app / "pages" / "static" / "pages" / "app.css"
    css.write_text(css.read_text() + 'div { background: url("missing.png"); }\n')
    result = build(mirror, app, tmp_path / "cache")
    assert_user_error(result, "build::collectstatic-failed", "Django says", "missing.png")


def test_the_builds_own_collectstatic_is_not_run_twice(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("django-collectstatic-app", tmp_path / "app")  # build: python manage.py collectstatic
    result = build(mirror, app, tmp_path / "cache")
    assert result.returncode == 0, result.output
    assert "Django collectstatic: the app's `build:` runs it; not run again" in result.output
    shutil.rmtree(app)
