"""Mirror faults from a real HTTP server on 127.0.0.1: each ends in a clear, coded
message (or, for transient faults, a good build), with no partial runtime left in
the slug or the cache and no secret in the output."""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import QuietHandler, RuntimeMirror, free_port, http_server

from stress.support import Figures, Sandbox, app_from_fixture, build_in, partial_runtime_left, secret_env_dir

pytestmark = [pytest.mark.stress, pytest.mark.integration]
_stop_stalling = threading.Event()


class FaultyMirror(QuietHandler):
    """Serves the real mirror, with one fault applied (set per server by `fault`)."""

    fault = "none"
    archive_gets = 0
    other_host = ""  # for "other-host": where the archive really is

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        if self.path.endswith("manifest.json") and self.fault in MANIFEST_FAULTS:
            self._send(200, MANIFEST_FAULTS[self.fault](self._file(), self.other_host))
        elif self.path.endswith(".tar.gz") and self.fault in ARCHIVE_FAULTS:
            type(self).archive_gets += 1
            ARCHIVE_FAULTS[self.fault](self)
        else:
            super().do_GET()

    def _file(self) -> bytes:
        return (Path(self.directory) / self.path.lstrip("/")).read_bytes()

    def _send(self, status: int, body: bytes, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def server_errors_then_file(self) -> None:
        if type(self).archive_gets <= 2:
            self.send_error(500)
        else:
            self._send(200, self._file())

    def truncated(self) -> None:
        data = self._file()
        self._send(200, data[: len(data) // 3], length=len(data))
        self.close_connection = True

    def stalled(self) -> None:
        data = self._file()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:65536])
        self.wfile.flush()
        _stop_stalling.wait(60)  # a mirror that stops sending mid-body


def _rewrite_urls(url: str) -> Callable[[bytes, str], bytes]:
    def rewrite(manifest: bytes, other_host: str) -> bytes:
        document = json.loads(manifest)
        for entry in document["runtimes"]:
            entry["url"] = url.format(name=entry["url"], other=other_host)
        return json.dumps(document).encode()
    return rewrite


def _wrong_sha(manifest: bytes, _other: str) -> bytes:
    document = json.loads(manifest)
    for entry in document["runtimes"]:
        entry["sha256"] = "0" * 64
    return json.dumps(document).encode()


MANIFEST_FAULTS: dict[str, Callable[[bytes, str], bytes]] = {
    "not-json": lambda _manifest, _other: b"<html>502 Bad Gateway</html>",
    "wrong-sha256": _wrong_sha,
    "url-file-scheme": _rewrite_urls("file:///etc/passwd"),
    "url-traversal": _rewrite_urls("../../{name}"),
    "url-encoded-traversal": _rewrite_urls("%2e%2e/%2e%2e/{name}"),
    "url-host-relative": _rewrite_urls("/etc/{name}"),
    "other-host": _rewrite_urls("{other}{name}"),
}
ARCHIVE_FAULTS: dict[str, Callable[[FaultyMirror], None]] = {
    "500-then-ok": FaultyMirror.server_errors_then_file,
    "404": lambda handler: handler.send_error(404),
    "truncated": FaultyMirror.truncated,
    "stalled": FaultyMirror.stalled,
}
# fault -> the error code (None: the build succeeds) and a phrase of the message
EXPECTED: dict[str, tuple[str | None, str]] = {
    "500-then-ok": (None, "Downloaded cpython-3.12.1"),
    "other-host": (None, "Downloaded cpython-3.12.1"),
    "404": ("mirror::http-error", "HTTP 404"),
    "refused": ("mirror::unreachable", "connection failed"),
    "stalled": ("mirror::unreachable", "time-out"),
    "truncated": ("mirror::unreachable", "cut off"),
    "wrong-sha256": ("mirror::checksum-mismatch", "0" * 64),
    "not-json": ("mirror::bad-manifest", "not JSON"),
    "url-file-scheme": ("mirror::unsafe-url", "file:///etc/passwd"),
    "url-traversal": ("mirror::unsafe-url", "../../cpython"),
    "url-encoded-traversal": ("mirror::unsafe-url", "%2e%2e/"),
    "url-host-relative": ("mirror::unsafe-url", "/etc/cpython"),
}


@pytest.fixture(scope="module")
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.12.1")
    return runtime_mirror


def serve_with_fault(mirror: RuntimeMirror, fault: str) -> object:
    handler = type(f"Mirror_{fault}", (FaultyMirror,), {"fault": fault, "archive_gets": 0,
                                                        "other_host": mirror.url})
    return http_server(mirror.directory, functools.partial(handler, directory=str(mirror.directory)))


@pytest.mark.parametrize("fault", list(EXPECTED))
def test_mirror_fault(mirror: RuntimeMirror, tmp_path: Path, figures: Figures, fault: str) -> None:
    code, phrase = EXPECTED[fault]
    sandbox = Sandbox(tmp_path / "sandbox")
    app_from_fixture(sandbox)
    env = secret_env_dir(tmp_path / "sandbox" / "env")
    row = figures.row(f"mirror: {fault}")
    row.trials += 1
    started = time.monotonic()
    if fault == "refused":
        result = build_in(sandbox, f"http://127.0.0.1:{free_port()}/", env)
    else:
        with serve_with_fault(mirror, fault) as url:  # type: ignore[attr-defined]
            result = build_in(sandbox, url, env, PYTHON_RUNTIME_MIRROR_TIMEOUT="2")
    elapsed = time.monotonic() - started
    row.add_leaks(env.leaks(result.output))
    row.add_outside(sandbox.bytes_outside())
    assert "Traceback" not in result.output
    assert phrase in result.output, result.output
    if code is None:
        assert result.returncode == 0, result.output
        assert (sandbox.app / ".lean" / "python" / "bin" / "python").exists()
    else:
        assert result.returncode == 1
        assert f"[{code}]" in result.stderr, result.output
        assert not (sandbox.app / ".lean" / "python").exists()
        runtimes = sandbox.cache / "python-buildpack" / "runtimes"
        assert not runtimes.exists() or list(runtimes.iterdir()) == []
        assert not (sandbox.cache / "python-buildpack" / "layers").exists()
    assert partial_runtime_left(sandbox) == []
    assert elapsed < 120, f"{fault} took {elapsed:.0f}s to end"
    assert env.leaks(result.output) == 0
    assert sandbox.bytes_outside() == 0
    row.passed += 1


def test_file_mirror_paths_out_are_refused(mirror: RuntimeMirror, tmp_path: Path, figures: Figures) -> None:
    local = tmp_path / "mirror"
    local.mkdir()
    document = json.loads((mirror.directory / "manifest.json").read_text())
    for entry in document["runtimes"]:
        entry["url"] = f"../{entry['url']}"
    (local / "manifest.json").write_text(json.dumps(document))
    for archive in mirror.directory.glob("*.tar.gz"):  # there, but outside the mirror
        (tmp_path / archive.name).symlink_to(archive)
    sandbox = Sandbox(tmp_path / "sandbox")
    app_from_fixture(sandbox)
    env = secret_env_dir(tmp_path / "sandbox" / "env")
    row = figures.row("mirror: file:// path out")
    row.trials += 1
    result = build_in(sandbox, local.as_uri(), env)
    row.add_leaks(env.leaks(result.output))
    row.add_outside(sandbox.bytes_outside())
    assert result.returncode == 1
    assert "[mirror::unsafe-url]" in result.stderr
    assert "Traceback" not in result.output
    assert env.leaks(result.output) == 0
    assert sandbox.bytes_outside() == 0
    row.passed += 1


@pytest.fixture(scope="module", autouse=True)
def _release_stalled_handlers() -> object:
    yield None
    _stop_stalling.set()
