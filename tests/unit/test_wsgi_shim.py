"""The slug's WSGI shim under a strict server (wsgiref refuses a second start_response)."""

from __future__ import annotations

import importlib.util
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

SHIM = Path(__file__).parents[2] / "lib" / "python_buildpack" / "launch" / "data" / "leanengine_wsgi.py"
App = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def load_shim_class() -> Any:
    spec = importlib.util.spec_from_file_location("shim_under_test", SHIM)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    source = SHIM.read_text().replace("application = ForgivingStartResponse(_load_app())", "")
    exec(compile(source, str(SHIM), "exec"), module.__dict__)  # noqa: S102 - the shim without its app loading
    return module.ForgivingStartResponse


def sdk_ping(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """What leancloud's Engine does on /__engine/1/ping: start_response, then a Response that calls it again."""
    start_response("200 OK", [("Content-Type", "application/json")])
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "2")])
    return [b"{}"]


def streaming(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    yield b"a"
    yield b""
    yield b"b"


def legacy_write(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    write = start_response("201 Created", [("Content-Type", "text/plain")])
    write(b"written;")
    return [b"returned"]


def empty(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("204 No Content", [])
    return []


def empty_chunk(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    # Regression: the shim passed b"" on before the deferred status; gunicorn
    # (like wsgiref) then failed the request with 500 (found by the smoke check).
    start_response("404 Not Found", [])
    return [b""]


class Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_once(app: App) -> tuple[int, bytes]:
    server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/", timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    finally:
        thread.join(5)
        server.server_close()


def test_strict_server_refuses_the_sdk_ping_without_the_shim() -> None:
    # Proves the test server is as strict as gunicorn, so the next test means something.
    assert serve_once(sdk_ping)[0] == 500


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        (sdk_ping, (200, b"{}")),
        (streaming, (200, b"ab")),
        (legacy_write, (201, b"written;returned")),
        (empty, (204, b"")),
        (empty_chunk, (404, b"")),
    ],
)
def test_shim_serves_under_a_strict_server(app: App, expected: tuple[int, bytes]) -> None:
    assert serve_once(load_shim_class()(app)) == expected


def test_shim_closes_the_result() -> None:
    closed = []

    class Result:
        def __iter__(self) -> Iterator[bytes]:
            return iter([b"x"])

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Result:
        start_response("200 OK", [])
        return Result()

    assert serve_once(load_shim_class()(app)) == (200, b"x")
    assert closed == [True]
