"""HTTP/1.1 for the registry client and the runtime mirror, on the standard
library's http.client.

Why not requests: importing requests (with urllib3, charset_normalizer, idna,
http.cookiejar) takes 0.15-0.2 s on a 2-core build machine, which was a third
of a code-only `bin/image` push, and a sixth of a no-change rebuild. The
client needs only what http.client has:
keep-alive connections, TLS checked against a CA bundle, timeouts; redirects
(a registry may send blob downloads to its storage) are followed here.

Like the requests session it replaces, it reads no proxy settings and no
.netrc of the host's: the registry's credentials come from bin/image alone.
Retries are the caller's: which failures are worth another try differs.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from email.message import Message
from pathlib import Path
from typing import Any

_REDIRECTS = (301, 302, 303, 307, 308)
_MAX_REDIRECTS = 5
# What a kept-alive connection raises when the server closed it while idle: the
# request is sent again on a new connection (its body is bytes, so it can be).
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class TransportError(Exception):
    """No HTTP answer: the connection or TLS failed, or the server went quiet."""

    def __init__(self, reason: str, *, tls: bool = False, kind: str = "failed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.tls = tls
        self.kind = kind  # timeout, cut-off (the body broke off), tls or failed

    @classmethod
    def of(cls, exc: BaseException) -> TransportError:
        return cls(failure_reason(exc), tls=isinstance(exc, ssl.SSLError), kind=_kind_of(exc))


class Response:
    """An answer: its status and headers, and a body read whole or in pieces."""

    def __init__(self, answer: http.client.HTTPResponse, release: Any) -> None:
        self.status = answer.status
        self.headers: Message = answer.headers
        self._answer = answer
        self._release = release  # gives the connection back once the body is read
        self._content: bytes | None = None

    def read(self, limit: int | None = None) -> bytes:
        """The body, or its first `limit` bytes (the rest is dropped with the connection)."""
        try:
            data = self._answer.read(limit) if limit is not None else self._answer.read()
        except (OSError, http.client.HTTPException) as exc:
            self._release(reuse=False)
            raise TransportError.of(exc) from None
        self._release(reuse=limit is None or self._answer.isclosed())
        return data

    @property
    def content(self) -> bytes:
        if self._content is None:
            self._content = self.read()
        return self._content

    def json(self) -> Any:
        return json.loads(self.content)

    def iter_chunks(self, size: int) -> Iterator[bytes]:
        try:
            while chunk := self._answer.read(size):
                yield chunk
        except (OSError, http.client.HTTPException) as exc:
            self._release(reuse=False)
            raise TransportError.of(exc) from None
        if self._answer.length:  # http.client ends quietly when a body breaks off early
            self._release(reuse=False)
            raise TransportError(f"the body broke off {self._answer.length} bytes before its end",
                                 kind="cut-off")
        self._release(reuse=True)

    def close(self) -> None:
        """Done with it: a body left unread closes the connection instead of reusing it."""
        self._release(reuse=self._answer.isclosed())

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Transport:
    """Requests over kept-alive connections, pooled per origin. Safe to share
    between threads: each request has a connection of its own."""

    def __init__(self, cafile: Path | None, connect_timeout: float, read_timeout: float) -> None:
        self._cafile = cafile
        self._tls: ssl.SSLContext | None = None  # made at the first https connection
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._idle: dict[tuple[str, str, int], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            for connections in self._idle.values():
                for connection in connections:
                    connection.close()
            self._idle.clear()

    def _take_idle(self, origin: tuple[str, str, int]) -> http.client.HTTPConnection | None:
        with self._lock:
            connections = self._idle.get(origin)
            return connections.pop() if connections else None

    def _give_back(self, origin: tuple[str, str, int], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(origin, []).append(connection)

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        params: Mapping[str, str] | list[tuple[str, str]] | None = None,
        stream: bool = False,
    ) -> Response:
        """One request, redirects followed; the body is read unless `stream`."""
        url = with_params(url, params)
        sent = dict(headers or {})
        for _ in range(_MAX_REDIRECTS + 1):
            response = self._send(method, url, sent, body)
            location = response.headers.get("Location")
            if response.status not in _REDIRECTS or not location:
                if not stream:
                    response.content  # noqa: B018 -- read now: the connection goes back to the pool
                return response
            response.close()
            target = urllib.parse.urljoin(url, location)
            if _origin(target) != _origin(url):
                sent.pop("Authorization", None)  # never hand the registry's credentials to another host
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body = ("GET" if method != "HEAD" else "HEAD"), None
                sent.pop("Content-Type", None)
                sent.pop("Content-Length", None)
            url = target
        raise TransportError(f"more than {_MAX_REDIRECTS} redirects")

    def _send(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
        origin = _origin(url)
        parts = urllib.parse.urlsplit(url)
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        reused = self._take_idle(origin)
        connection = reused or self._connect(origin)
        try:
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
        except _STALE as exc:
            connection.close()
            if reused is None:
                raise TransportError.of(exc) from None
            return self._send(method, url, headers, body)  # the kept-alive connection had gone stale
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise TransportError.of(exc) from None

        released = False

        def release(*, reuse: bool) -> None:
            nonlocal released
            if released:  # once only: by now another request may be using the connection
                return
            released = True
            if reuse and not answer.will_close:
                self._give_back(origin, connection)
            else:
                connection.close()

        return Response(answer, release)

    def _tls_context(self) -> ssl.SSLContext:
        # Lazily: reading the CA bundle takes 50 ms, which a push over plain
        # HTTP (a registry on localhost) need not pay.
        with self._lock:
            if self._tls is None:
                self._tls = ssl.create_default_context(cafile=str(self._cafile) if self._cafile else None)
            return self._tls

    def _connect(self, origin: tuple[str, str, int]) -> http.client.HTTPConnection:
        scheme, host, port = origin
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(
                host, port, timeout=self._connect_timeout, context=self._tls_context()
            )
        else:
            connection = http.client.HTTPConnection(host, port, timeout=self._connect_timeout)
        try:
            connection.connect()
        except OSError as exc:
            connection.close()
            raise TransportError.of(exc) from None
        if connection.sock is not None:
            connection.sock.settimeout(self._read_timeout)
        return connection


def with_params(url: str, params: Mapping[str, str] | list[tuple[str, str]] | None) -> str:
    """The URL with `params` added to its query (an upload Location often has one)."""
    if not params:
        return url
    parts = urllib.parse.urlsplit(url)
    added = urllib.parse.urlencode(list(params.items()) if isinstance(params, Mapping) else params)
    query = f"{parts.query}&{added}" if parts.query else added
    return urllib.parse.urlunsplit(parts._replace(query=query))


def failure_reason(exc: BaseException) -> str:
    """Why no answer came, in words a build log can show (never the URL: it may hold a token)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS failed: the certificate is not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {type(exc).__name__}"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "it did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is it running?)"
    if isinstance(exc, socket.gaierror):
        return "its name does not resolve"
    return f"the connection failed ({type(exc).__name__})"


def _kind_of(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError):
        return "tls"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(exc, http.client.IncompleteRead):
        return "cut-off"
    return "failed"


def _origin(url: str) -> tuple[str, str, int]:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80)
