"""The default web command serves what `application` is: WSGI, ASGI 3 (FastAPI,
Starlette, Django through asgi.py) or Tornado. Each real fixture is built,
moved, started as the platform does, probed over HTTP and stopped with SIGTERM;
bad values fail the build with a coded error; the kind is remembered by the cache."""

from __future__ import annotations

import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from helpers import (
    RunningApp,
    RuntimeMirror,
    assert_user_error,
    compile_app,
    copy_fixture,
    http_get,
    move_slug,
    run_bin,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)

pytestmark = pytest.mark.integration
PYTHON = "3.12.1"


@pytest.fixture(scope="module")
def kinds_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CACHE_DIR for this module: the error cases reuse one install layer."""
    return tmp_path_factory.mktemp("kinds-cache")


@dataclass(frozen=True)
class Kind:
    fixture: str
    entry: str
    label: str
    body: str
    access_line: str  # what the server logs for GET /
    slow: bool = False  # has /slow (2 s): SIGTERM must let it finish
    client_path: str | None = None  # echoes the client address: X-Forwarded-For is trusted
    rebuild: bool = False  # also rebuilt unchanged, in a new directory on the same cache


ASGI_ACCESS = '"GET / HTTP/1.1" 200'
KINDS = [
    Kind("fastapi-app", "wsgi.py", "ASGI 3", "Hello from FastAPI\n", ASGI_ACCESS, slow=True,
         client_path="/headers", rebuild=True),
    Kind("starlette-app", "wsgi.py", "ASGI 3", "Hello from Starlette\n", ASGI_ACCESS),
    Kind("django-asgi-app", "asgi.py", "ASGI 3", "Django over ASGI is up\n", ASGI_ACCESS),
    Kind("tornado-app", "wsgi.py", "Tornado", "Hello from Tornado, pid", "200 GET / (127.0.0.1)",
         slow=True, client_path="/client"),
]


def slow_request(app: RunningApp, answers: list[tuple[int, str]]) -> threading.Thread:
    thread = threading.Thread(target=lambda: answers.append(http_get(app.url("/slow"), timeout=15)))
    thread.start()
    time.sleep(0.5)  # the request is in flight when SIGTERM comes
    return thread


def forwarded_client(app: RunningApp, path: str) -> str:
    request = urllib.request.Request(app.url(path), headers={"X-Forwarded-For": "203.0.113.7"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.read().decode()


@pytest.mark.parametrize("kind", KINDS, ids=[kind.fixture for kind in KINDS])
def test_each_kind_builds_moves_serves_and_stops(runtime_mirror: RuntimeMirror, kinds_cache: Path,
                                                 tmp_path: Path, kind: Kind) -> None:
    runtime_mirror.ensure(PYTHON)
    app = copy_fixture(kind.fixture, tmp_path / "build")
    result = compile_app(runtime_mirror.url, app, kinds_cache)
    assert result.returncode == 0, result.output
    assert f"{kind.entry}: `application` is {kind.label} (" in result.output
    assert "GET / answered 200" in result.output  # the smoke check served this kind
    assert f"appKind: {kind.label.split()[0].lower()}" in run_bin("release", app).stdout
    assert yaml.safe_load(run_bin("report", app).stdout)["app"]["entry"] == kind.entry
    if kind.rebuild:
        check_the_unchanged_rebuild(runtime_mirror, kinds_cache, tmp_path, kind, web_command(app))
    slug = move_slug(app, tmp_path / "elsewhere")
    marker = tmp_path / "lifespan.txt"

    env = {"WEB_CONCURRENCY": "2", "LIFESPAN_MARKER": str(marker)}
    with start_slug(slug, web_command(slug), tmp_path / "web.log", env=env) as running:
        status, body = wait_for_http(running, "/")
        assert (status, body.startswith(kind.body)) == (200, True), running.output()
        if kind.client_path:
            assert "203.0.113.7" in forwarded_client(running, kind.client_path)
        answers: list[tuple[int, str]] = []
        thread = slow_request(running, answers) if kind.slow else None
        seconds = stop_with_sigterm(running)
    assert seconds < 10, f"took {seconds:.1f}s to stop after SIGTERM"
    assert running.process.returncode == 0, running.output()
    assert kind.access_line in running.output()
    assert f"0.0.0.0:{running.port}" in running.output()
    if thread is not None:
        thread.join()
        assert answers == [(200, "slow request finished\n")], running.output()
    if kind.fixture == "fastapi-app":  # lifespan startup and shutdown ran, in each of 2 workers
        events = sorted(line.split()[0] for line in marker.read_text().splitlines())
        assert events == ["shutdown", "shutdown", "startup", "startup"], running.output()


def check_the_unchanged_rebuild(mirror: RuntimeMirror, cache: Path, tmp_path: Path, kind: Kind,
                                command: str) -> None:
    """Nothing changed: the app is not imported again, nothing is installed, the
    smoke check is skipped, and the same command comes out."""
    again = copy_fixture(kind.fixture, tmp_path / "rebuild")
    result = compile_app(mirror.url, again, cache)
    assert result.returncode == 0, result.output
    assert "Restored Python and dependencies from the cache" in result.output
    assert f"{kind.entry}: `application` is {kind.label} (" in result.output
    assert "known from an earlier build of the same app" in result.output
    assert "as the ASGI server" not in result.output  # the layer kept the server
    assert "Skipped: this app" in result.output
    assert web_command(again) == command
    # Only requirements.txt changed: updated in place, and the server is kept.
    with open(again / "requirements.txt", "a") as requirements:
        requirements.write("six==1.17.0\n")
    updated = compile_app(mirror.url, again, cache)
    assert updated.returncode == 0, updated.output
    assert "Updating the cached dependencies in place" in updated.output
    assert "uvicorn" not in updated.output.split("-----> Writing the start command")[0]  # not removed
    assert "Using the ASGI server of the cached dependencies" in updated.output


BAD_APPLICATIONS = [
    ("application = 'main:app'\n", "app::not-an-application", "Found a string, 'main:app'."),
    ("import json as application\n", "app::not-an-application", "Found the module json."),
    ("class App(object):\n    def __init__(self, name):\n        self.name = name\n\n"
     "application = App\n", "app::not-an-application",
     "Found the class wsgi.App itself, not an instance of it."),
    ("application = None\n", "app::not-an-application", "Found None."),
    ("async def application(scope):\n    pass\n", "app::asgi-wrong-arity",
     "Found the function application, a coroutine function taking 1 argument."),
    ("async def application(scope, receive):\n    pass\n", "app::asgi-wrong-arity",
     "a coroutine function taking 2 arguments"),
]


@pytest.mark.parametrize(("source", "code", "found"), BAD_APPLICATIONS)
def test_application_of_no_kind_fails_the_build(runtime_mirror: RuntimeMirror, kinds_cache: Path,
                                                tmp_path: Path, source: str, code: str, found: str) -> None:
    runtime_mirror.ensure(PYTHON)
    app = copy_fixture("starlette-app", tmp_path)  # its install layer is in the cache
    (app / "wsgi.py").write_text(source)
    result = compile_app(runtime_mirror.url, app, kinds_cache)
    assert_user_error(result, code, found, "Required: ")
    assert "smoke check" not in result.output.lower()  # failed before anything started


FAKE_SDK = "# Stands in for the LeanCloud SDK: the check needs `import leancloud` to work.\n"
STARLETTE_PING = """\
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def ping(request):
    return JSONResponse({"runtime": "asgi"})


application = Starlette(routes=[Route("/__engine/1/ping", ping)] if PING else [])
"""
TORNADO_PING = """\
import tornado.web


class Ping(tornado.web.RequestHandler):
    def get(self):
        self.write({"runtime": "tornado"})


application = tornado.web.Application([(r"/__engine/1/ping", Ping)] if PING else [])
"""


@pytest.mark.parametrize(("fixture", "source"), [("starlette-app", STARLETTE_PING),
                                                 ("tornado-app", TORNADO_PING)])
def test_functions_mode_strict_calls_each_kind_as_its_server_does(
    runtime_mirror: RuntimeMirror, kinds_cache: Path, tmp_path: Path, fixture: str, source: str,
) -> None:
    runtime_mirror.ensure(PYTHON)
    app = copy_fixture(fixture, tmp_path / "ping")
    (app / "leancloud.py").write_text(FAKE_SDK)
    (app / "leanengine.yaml").write_text("functionsMode: strict\n")
    (app / "wsgi.py").write_text("PING = True\n" + source)
    result = compile_app(runtime_mirror.url, app, kinds_cache)
    assert result.returncode == 0, result.output
    assert "GET /__engine/1/ping answers 200" in result.output
    assert "GET /__engine/1/ping answered 200" in result.output  # the smoke check, too
    (app / "wsgi.py").write_text("PING = False\n" + source)
    assert_user_error(compile_app(runtime_mirror.url, app, kinds_cache),
                      "leanengine-yaml::functions-mode-without-sdk", "answered 404, not 200")
