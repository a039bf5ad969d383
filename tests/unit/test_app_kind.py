"""What `application` is (launch/data/probe_app.py, run by real interpreters, 2.7
too), the command each kind gets, the ASGI server pins, and the cache's memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from python_buildpack.cache.build_cache import BuildCache
from python_buildpack.install import tool_versions
from python_buildpack.launch import app_kind, start_command
from python_buildpack.launch.app_kind import AppKind
from python_buildpack.reporting import errors

PROBE = Path(app_kind.__file__).parent / "data" / "probe_app.py"
PYTHON_27 = Path("/root/.pyenv/versions/2.7.18/bin/python")


def probe(source: str, tmp_path: Path, python: str = sys.executable) -> dict[str, str]:
    (tmp_path / "wsgi.py").write_text(source)
    printed = subprocess.run([python, str(PROBE), "wsgi"], cwd=tmp_path, capture_output=True,
                             text=True, check=True, env={"PYTHONDONTWRITEBYTECODE": "1"}).stdout
    verdict: dict[str, str] = json.loads(printed.strip().splitlines()[-1])
    return verdict


# Sources both Python 2.7 and 3 read.
BOTH_LINES = [
    ("def application(environ, start_response):\n    pass\n", "wsgi", "the function application"),
    ("class App(object):\n    def __call__(self, environ, start_response, extra=None):\n        pass\n"
     "application = App()\n", "wsgi", "an instance of wsgi.App"),
    ("class application(object):\n    def __init__(self, environ, start_response):\n        pass\n",
     "wsgi", "the class wsgi.application"),
    ("def application(*args):\n    pass\n", "wsgi", "the function application"),
    ("application = 'app:app'\n", "invalid", "a string, 'app:app'"),
    ("import json as application\n", "invalid", "the module json"),
    ("class App(object):\n    def __init__(self, name):\n        pass\napplication = App\n", "invalid",
     "the class wsgi.App itself, not an instance of it"),
    ("application = None\n", "invalid", "None"),
    ("application = 42\n", "invalid", "an instance of int, which cannot be called"),
    ("def application(environ):\n    pass\n", "invalid",
     "the function application, a plain (not async) callable taking 1 argument"),
    ("import no_such_module\napplication = 1\n", "import-failed", "No module named"),
]
PYTHON_3_ONLY = [
    ("async def application(scope, receive, send):\n    pass\n", "asgi", "the function application"),
    ("class App:\n    async def __call__(self, scope, receive, send):\n        pass\napplication = App()\n",
     "asgi", "an instance of wsgi.App"),
    ("async def application(scope):\n    pass\n", "invalid",
     "the function application, a coroutine function taking 1 argument"),
    ("class App:\n    async def __call__(self, scope, receive, send, extra):\n        pass\n"
     "application = App()\n", "invalid", "a coroutine function taking 4 arguments"),
    ("def application(scope, receive, send):\n    pass\n", "invalid",
     "a plain (not async) callable taking 3 arguments"),
]


@pytest.mark.parametrize(("source", "kind", "found"), BOTH_LINES + PYTHON_3_ONLY)
def test_the_probe_names_the_kind_or_what_was_found(tmp_path: Path, source: str, kind: str,
                                                    found: str) -> None:
    verdict = probe(source, tmp_path)
    assert (verdict["kind"], found in verdict["found"]) == (kind, True), verdict


@pytest.mark.parametrize(("source", "kind", "found"), BOTH_LINES)
def test_the_probe_runs_on_python_2(tmp_path: Path, source: str, kind: str, found: str) -> None:
    if not PYTHON_27.exists():
        pytest.skip("this machine lacks CPython 2.7")
    verdict = probe(source, tmp_path, str(PYTHON_27))
    assert (verdict["kind"], found in verdict["found"]) == (kind, True), verdict


@pytest.mark.parametrize(("verdict", "code"), [
    ({"kind": "invalid", "problem": "not-an-app", "found": "the module os"}, "app::not-an-application"),
    ({"kind": "invalid", "problem": "asgi-arity", "found": "f, a coroutine function taking 1 argument"},
     "app::asgi-wrong-arity"),
])
def test_a_verdict_of_no_kind_is_a_coded_error(verdict: dict[str, str], code: str) -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        app_kind._read_verdict(verdict, "wsgi.py")
    assert raised.value.code == code
    assert verdict["found"] in raised.value.detail
    assert "Required:" in raised.value.detail


ASGI = AppKind("asgi", "wsgi.py", "x", "uvicorn_worker.UvicornWorker")


@pytest.mark.parametrize(("app", "in_subdir", "command"), [
    (None, False, start_command.DEFAULT_WEB_COMMAND),
    (AppKind("wsgi", "wsgi.py", "x"), False, start_command.DEFAULT_WEB_COMMAND),
    (AppKind("wsgi", "asgi.py", "x"), False,
     "LEANENGINE_WSGI_APP=asgi:application " + start_command.DEFAULT_WEB_COMMAND),
    (AppKind("wsgi", "wsgi.py", "x"), True, start_command.DEFAULT_WEB_COMMAND_IN_SUBDIR),
    (ASGI, False,
     "gunicorn --config .lean/gunicorn.conf.py --worker-class uvicorn_worker.UvicornWorker wsgi:application"),
    (AppKind("asgi", "asgi.py", "x", "uvicorn.workers.UvicornWorker"), True,
     'gunicorn --config "$HOME/.lean/gunicorn.conf.py" --worker-class uvicorn.workers.UvicornWorker'
     " asgi:application"),
    (AppKind("tornado", "wsgi.py", "x"), False, "python .lean/tornado_server.py wsgi:application"),
    (AppKind("tornado", "wsgi.py", "x"), True, 'python "$HOME/.lean/tornado_server.py" wsgi:application'),
])
def test_each_kind_gets_its_server(app: AppKind | None, in_subdir: bool, command: str) -> None:
    assert start_command.default_command(app, in_subdir) == command


def test_the_release_names_the_kind_the_build_found(tmp_path: Path) -> None:
    assert "appKind" not in start_command.release_document(tmp_path)  # never compiled: WSGI as before
    start_command.write_server_files(tmp_path, ASGI)
    release = start_command.release_document(tmp_path)
    assert "--worker-class uvicorn_worker.UvicornWorker wsgi:application\n" in release
    assert "  appKind: asgi\n" in release
    (tmp_path / "leanengine.yaml").write_text("run: python app.py $LEANCLOUD_APP_PORT\n")
    assert "appKind" not in start_command.release_document(tmp_path)


@pytest.mark.parametrize(("python", "pins", "worker"), [
    ("2.7.18", [], "uvicorn.workers.UvicornWorker"),
    ("3.6.15", ["uvicorn==0.16.0"], "uvicorn.workers.UvicornWorker"),
    ("3.8.18", ["uvicorn==0.33.0", "uvicorn-worker==0.2.0"], "uvicorn_worker.UvicornWorker"),
    ("3.13.0", ["uvicorn==0.39.0", "uvicorn-worker==0.4.0"], "uvicorn_worker.UvicornWorker"),
])
def test_asgi_server_pins_per_line(python: str, pins: list[str], worker: str) -> None:
    tools = tool_versions.tools_for(python)
    assert (tools.asgi_server_requirements(), tools.asgi_worker_class()) == (pins, worker)


def test_the_cache_remembers_documents_by_key_newest_first(tmp_path: Path) -> None:
    cache = BuildCache(tmp_path)
    assert cache.recall("app-kind", "a") is None
    for index in range(25):
        cache.remember("app-kind", f"k{index}", {"kind": "wsgi", "n": index})
    cache.remember("app-kind", "k24", {"kind": "asgi"})
    assert cache.recall("app-kind", "k24") == {"kind": "asgi"}
    assert cache.recall("app-kind", "k5") == {"kind": "wsgi", "n": 5}
    assert cache.recall("app-kind", "k4") is None  # the oldest are forgotten
    (tmp_path / "remembered-app-kind.json").write_text("{not json")
    assert cache.recall("app-kind", "k24") is None
    assert app_kind.from_dict({"kind": "cgi"}) is None
    assert app_kind.from_dict(ASGI.as_dict()) == ASGI


@pytest.mark.parametrize("script", sorted(path.name for path in PROBE.parent.glob("*.py")))
def test_the_scripts_run_in_the_app_read_on_python_2(script: str) -> None:
    """They run in the app's own Python, 2.7 included (no f-strings, no async syntax)."""
    if not PYTHON_27.exists():
        pytest.skip("this machine lacks CPython 2.7")
    source = (PROBE.parent / script).read_text()
    subprocess.run([str(PYTHON_27), "-c", "import sys; compile(sys.stdin.read(), 'script', 'exec')"],
                   input=source, text=True, check=True)
