"""The registry client's HTTP layer against real servers on 127.0.0.1: TLS
checked against a CA file (a certificate made with openssl), kept-alive
connections reused and replaced when the server dropped them, redirects that
never carry the credentials to another host, and threads that share it."""

from __future__ import annotations

import contextlib
import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import http_server
from python_buildpack.image import registry
from python_buildpack.reporting import errors
from python_buildpack.support import http_transport
from python_buildpack.support.http_transport import Transport, TransportError


class _Seen:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None, int]] = []  # method, path, Authorization, client port
        self.lock = threading.Lock()


class _Handler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive. /redirect-* send elsewhere; /drop closes after answering."""

    protocol_version = "HTTP/1.1"
    seen: _Seen
    other_origin = ""

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.seen.lock:
            self.seen.requests.append(
                (self.command, self.path, self.headers.get("Authorization"), self.client_address[1])
            )
        if self.path.startswith("/redirect-same"):
            self._answer(307, b"", {"Location": "/target"})
        elif self.path.startswith("/redirect-other"):
            self._answer(307, b"", {"Location": f"{self.other_origin}/target"})
        else:
            self._answer(200, b"echo:" + body + self.path.encode(), {})
        if self.path.startswith("/drop"):
            self.close_connection = True  # an idle keep-alive connection the server let go

    def _answer(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_PUT = do_POST = handle_any  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def _server(seen: _Seen, tls: tuple[Path, Path] | None = None, other_origin: str = "") -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"seen": seen, "other_origin": other_origin})
    context = None
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
    with http_server(Path("."), handler, tls=context) as url:
        yield url.rstrip("/")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


def test_tls_is_checked_against_the_ca_file(certificate: tuple[Path, Path], tmp_path: Path) -> None:
    seen = _Seen()
    with _server(seen, tls=certificate) as url:
        trusting = Transport(certificate[0], 5, 5)
        assert trusting.request("GET", f"{url}/v2/").content == b"echo:/v2/"
        trusting.close()
        # The system bundle does not know the test's certificate: a clear failure, flagged as TLS.
        with pytest.raises(TransportError) as raised:
            Transport(None, 5, 5).request("GET", f"{url}/v2/")
        assert raised.value.tls
        assert "certificate is not trusted" in raised.value.reason


def test_an_untrusted_registry_fails_at_once_with_a_code(
    certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _Seen()
    monkeypatch.setattr(registry, "SYSTEM_CA_BUNDLE", Path("/nonexistent/bundle.crt"))
    with _server(seen, tls=certificate) as url:
        host = url.removeprefix("https://")
        client = registry.Registry(host, {"HOME": "/nonexistent"}, pushed_to=host, backoff=0.01)
        with pytest.raises(errors.BuildpackError) as raised:
            client.has_blob("app", "sha256:" + "a" * 64)
        client.close()
    assert raised.value.code == "registry::unreachable"
    assert "TLS failed" in raised.value.detail
    assert len(seen.requests) == 0  # the handshake failed: nothing was sent, and nothing retried


def test_connections_are_kept_alive_and_replaced_when_dropped() -> None:
    seen = _Seen()
    with _server(seen) as url:
        transport = Transport(None, 5, 5)
        for path in ("/one", "/two", "/drop", "/after-drop", "/again"):
            assert transport.request("PUT", f"{url}{path}", body=b"x").content == b"echo:x" + path.encode()
        transport.close()
    ports = [port for _method, _path, _auth, port in seen.requests]
    assert ports[0] == ports[1] == ports[2]  # one connection for the first three
    assert ports[3] != ports[2]  # the server closed it after /drop: a new one
    assert ports[4] == ports[3]


def test_a_connection_that_went_stale_while_idle_is_replaced() -> None:
    seen = _Seen()
    with _server(seen) as url:
        transport = Transport(None, 5, 5)
        transport.request("GET", f"{url}/first")
        # The server side goes away while the connection idles in the pool (what
        # a registry's idle timeout does); the next request must not fail for it.
        for connections in transport._idle.values():
            for connection in connections:
                assert connection.sock is not None
                connection.sock.shutdown(2)
        assert transport.request("GET", f"{url}/second").content == b"echo:/second"
        transport.close()


def test_redirects_keep_credentials_on_the_same_origin_only() -> None:
    seen, elsewhere = _Seen(), _Seen()
    with _server(elsewhere) as other, _server(seen, other_origin=other) as url:
        transport = Transport(None, 5, 5)
        same = transport.request("GET", f"{url}/redirect-same", headers={"Authorization": "Basic c2VjcmV0"})
        moved = transport.request("GET", f"{url}/redirect-other", headers={"Authorization": "Basic c2VjcmV0"})
        transport.close()
    assert same.content == b"echo:/target"
    assert moved.content == b"echo:/target"
    assert [auth for _m, path, auth, _p in seen.requests if path == "/target"] == ["Basic c2VjcmV0"]
    assert [auth for _m, path, auth, _p in elsewhere.requests] == [None]


def test_params_join_an_existing_query() -> None:
    assert http_transport.with_params("http://h/u/1?_state=abc", {"digest": "sha256:0"}) == (
        "http://h/u/1?_state=abc&digest=sha256%3A0"
    )
    assert http_transport.with_params("http://h/u", [("scope", "a b")]) == "http://h/u?scope=a+b"


def test_threads_share_one_transport() -> None:
    seen = _Seen()
    with _server(seen) as url:
        transport = Transport(None, 5, 5)
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = list(pool.map(lambda n: transport.request("POST", f"{url}/n{n}", body=b"b").content,
                                    range(40)))
        transport.close()
    assert answers == [f"echo:b/n{n}".encode() for n in range(40)]
    assert len({port for *_rest, port in seen.requests}) <= 4 + 1  # connections reused, not one per request


def test_a_server_that_is_down() -> None:
    with _server(_Seen()) as url:
        pass  # stopped: its port refuses connections now
    with pytest.raises(TransportError) as raised:
        Transport(None, 5, 5).request("GET", f"{url}/v2/")
    assert raised.value.reason == "connection refused (is it running?)"
    assert not raised.value.tls
