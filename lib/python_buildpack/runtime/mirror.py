"""The runtime mirror: manifest.json and the archives it lists.

A mirror is a directory, served over http(s) or read from file://, holding
``manifest.json`` and runtime archives. Downloads retry transient failures,
are verified against the manifest's sha256 and land by atomic rename, so a
cache never holds a partial or unverified archive.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from python_buildpack.reporting import errors, output
from python_buildpack.support import partial_files
from python_buildpack.support.http_transport import Transport, TransportError

MANIFEST_NAME = "manifest.json"
_CONNECT_TIMEOUT = 10
_READ_TIMEOUT = 60  # seconds without a byte before a stalled mirror counts as down
TIMEOUT_SETTING = "PYTHON_RUNTIME_MIRROR_TIMEOUT"
_CHUNK = 1024 * 1024
_MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_DOWNLOAD_ATTEMPTS = 3
_RETRIED_CODES = ("mirror::unreachable", "mirror::checksum-mismatch")


@dataclass(frozen=True)
class RuntimeEntry:
    version: str
    url: str
    sha256: str
    size: int | None = None
    free_threaded: bool = False  # `"free_threaded": true`: a build without the GIL (PEP 703)


# A busy or restarting mirror is asked again, waiting longer each time; a 404
# or a bad body is not (the download as a whole is retried: Mirror.download).
_RETRIED_STATUSES = (429, 500, 502, 503, 504)
_REQUEST_RETRIES = 4
_BACKOFF_SECONDS = 0.5


def read_timeout(host_env: Mapping[str, str]) -> float:
    """PYTHON_RUNTIME_MIRROR_TIMEOUT: seconds a mirror may stall (default 60)."""
    value = host_env.get(TIMEOUT_SETTING, "").strip()
    if not value:
        return _READ_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise errors.mirror_bad_timeout(value)
    return seconds


class Mirror:
    def __init__(self, url: str, timeout: float = _READ_TIMEOUT) -> None:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https", "file"):
            raise errors.mirror_bad_url(url)
        self.base = url if url.endswith("/") else url + "/"
        self.scheme = scheme
        # Any CA the system trusts (a proxy in front of the mirror may use its own).
        self._transport = Transport(None, _CONNECT_TIMEOUT, timeout) if scheme != "file" else None

    def url_of(self, relative: str) -> str:
        if "\0" in urllib.parse.unquote(relative):  # no file or URL has one; paths raise on it
            raise errors.mirror_unsafe_url(relative)
        url = urllib.parse.urljoin(self.base, relative)
        scheme = urllib.parse.urlsplit(url).scheme
        # Another host is fine (a CDN); a path relative to the mirror must stay in it.
        if scheme in ("http", "https") and self.scheme != "file" and \
                (_is_absolute_url(relative) or _stays_below(relative)):
            return url
        if scheme == "file" and self.scheme == "file":
            base_dir = os.path.realpath(self._file_path(self.base))
            target = os.path.realpath(self._file_path(url))
            if target.startswith(base_dir + os.sep):
                return url
        raise errors.mirror_unsafe_url(relative)

    def load_manifest(self) -> list[RuntimeEntry]:
        url = self.url_of(MANIFEST_NAME)
        raw = self._read_small(url)
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise errors.mirror_bad_manifest(url, f"not JSON ({exc})") from exc
        return parse_manifest(document, url)

    def download(self, entry: RuntimeEntry, destination: Path) -> None:
        """Download and verify an archive; only a verified file appears at destination.

        A connection that breaks mid-body, or a body that does not match its
        digest (a truncated or damaged transfer), is tried again from the start.
        """
        for attempt in range(1, _DOWNLOAD_ATTEMPTS + 1):
            try:
                self._download_once(entry, destination)
                return
            except errors.BuildpackError as err:
                if err.code not in _RETRIED_CODES or attempt == _DOWNLOAD_ATTEMPTS:
                    raise
                time.sleep(0.5 * attempt)

    def _download_once(self, entry: RuntimeEntry, destination: Path) -> None:
        url = self.url_of(entry.url)
        partial = partial_files.partial_path(destination)
        digest = hashlib.sha256()
        try:
            with open(partial, "wb") as sink:
                for chunk in self._stream(url):
                    digest.update(chunk)
                    sink.write(chunk)
                    output.progress(Path(entry.url).name, sink.tell(), entry.size)
            output.progress_done()
            if digest.hexdigest() != entry.sha256:
                raise errors.checksum_mismatch(url, entry.sha256, digest.hexdigest())
            os.replace(partial, destination)
        finally:
            partial.unlink(missing_ok=True)

    @staticmethod
    def _file_path(url: str) -> str:
        # url2pathname on POSIX, without importing urllib.request (25 ms a build)
        return urllib.parse.unquote(urllib.parse.urlsplit(url).path)

    def _read_small(self, url: str) -> bytes:
        data = b""
        for chunk in self._stream(url):
            data += chunk
            if len(data) > _MAX_MANIFEST_BYTES:
                raise errors.mirror_bad_manifest(url, "larger than 4 MiB")
        return data

    def _stream(self, url: str) -> Any:
        if self._transport is None:
            return self._stream_file(url)
        return self._stream_http(url)

    def _stream_file(self, url: str) -> Any:
        try:
            with open(self._file_path(url), "rb") as source:
                while chunk := source.read(_CHUNK):
                    yield chunk
        except OSError as exc:
            raise errors.mirror_unreachable(url, exc.strerror or str(exc)) from exc

    def _stream_http(self, url: str) -> Any:
        response = self._get(url)
        try:
            if response.status != 200:
                raise errors.mirror_http_error(url, response.status)
            yield from response.iter_chunks(_CHUNK)
        except TransportError as exc:
            raise errors.mirror_unreachable(url, _reason(exc)) from exc
        finally:
            response.close()

    def _get(self, url: str) -> Any:
        """GET, asked again after a refused or dropped connection or a busy answer."""
        transport = self._transport or Transport(None, _CONNECT_TIMEOUT, _READ_TIMEOUT)
        for attempt in range(_REQUEST_RETRIES + 1):
            last = attempt == _REQUEST_RETRIES
            try:
                response = transport.request("GET", url, stream=True)
            except TransportError as exc:
                if last or exc.tls:  # an untrusted certificate stays untrusted
                    raise errors.mirror_unreachable(url, _reason(exc)) from exc
            else:
                if response.status not in _RETRIED_STATUSES or last:
                    return response
                response.close()
            time.sleep(_BACKOFF_SECONDS * 2**attempt)
        raise AssertionError("unreachable")


def _is_absolute_url(reference: str) -> bool:
    parts = urllib.parse.urlsplit(reference)
    return bool(parts.scheme and parts.netloc)


def _stays_below(reference: str) -> bool:
    """A relative reference that names no parent directory and no other root
    (percent-escapes decoded first: servers decode %2e%2e to ..)."""
    parts = urllib.parse.urlsplit(reference)
    path = urllib.parse.unquote(parts.path)
    return not parts.netloc and not path.startswith("/") and ".." not in PurePosixPath(path).parts


def _reason(exc: TransportError) -> str:
    if exc.kind == "timeout":
        return "the mirror stopped answering (time-out)"
    if exc.kind == "cut-off":
        return "the transfer was cut off before the end"
    if exc.tls:
        return exc.reason
    return f"connection failed (is the mirror up?): {exc.reason}"


def parse_manifest(document: Any, url: str) -> list[RuntimeEntry]:
    """Validate a manifest document; pure."""
    if not isinstance(document, dict) or not isinstance(document.get("runtimes"), list):
        raise errors.mirror_bad_manifest(url, 'expected an object with a "runtimes" list')
    entries = []
    for index, item in enumerate(document["runtimes"]):
        if not isinstance(item, dict):
            raise errors.mirror_bad_manifest(url, f"runtimes[{index}] is not an object")
        version, file_url, sha256 = (item.get(key) for key in ("version", "url", "sha256"))
        if not all(isinstance(value, str) and value for value in (version, file_url, sha256)):
            raise errors.mirror_bad_manifest(
                url, f'runtimes[{index}] needs "version", "url" and "sha256" strings')
        size = item.get("size")
        entries.append(RuntimeEntry(str(version), str(file_url), str(sha256).lower(),
                                    size if isinstance(size, int) else None,
                                    item.get("free_threaded") is True))
    return entries
