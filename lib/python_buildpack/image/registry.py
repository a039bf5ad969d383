"""A small client of the OCI distribution API, on top of http_transport.

Written here rather than taken from oras: oras re-serialises manifests (which
changes their digest, the one thing a reproducible image must keep) and cannot
mount blobs across repositories (which base layers need so they are never
downloaded or uploaded again). What is here is the part of the spec a push
needs: HEAD for blob existence, cross-repository mount, monolithic and chunked
uploads, manifest GET and PUT; Bearer tokens from the `WWW-Authenticate`
challenge (Docker Hub, GHCR, Harbor, ACR and distribution's token auth) and
Basic auth; retries with backoff on connection errors, 429 and 5xx.

TLS uses the system CA bundle. Plain HTTP only for localhost and 127.0.0.0/8
(Docker's convention, which podman and skopeo follow) or with --plain-http.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_buildpack.image import auth
from python_buildpack.image.auth import Credentials
from python_buildpack.image.blobs import Blob
from python_buildpack.reporting import errors, output
from python_buildpack.support.http_transport import Response, Transport, TransportError

SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
CHUNK_SIZE = 8 * 1024 * 1024  # blobs larger than this go up in chunks
_ATTEMPTS = 4
_CONNECT_TIMEOUT, _READ_TIMEOUT = 10.0, 120.0
_MAX_MANIFEST = 4 * 1024 * 1024


class _Retry(Exception):
    """A transient failure (connection, 429, 5xx) worth another attempt."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.status, self.retry_after = reason, status, retry_after


@dataclass
class Transfers:
    """What a push did with each blob, for its summary (and the tests)."""

    uploaded: list[str] = field(default_factory=list)
    mounted: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)


def _reason(response: Response) -> str:
    try:
        found = response.json().get("errors") or []
        return "; ".join(f"{item.get('code', '')} {item.get('message', '')}".strip() for item in found[:3])
    except (ValueError, AttributeError):
        return ""


class Registry:
    def __init__(
        self,
        host: str,
        environ: Mapping[str, str],
        *,
        pushed_to: str,
        plain_http: bool = False,
        backoff: float = 0.5,
    ) -> None:
        self.host = host
        scheme = "http" if plain_http else "https"
        self.base_url = f"{scheme}://{host}"
        cafile = SYSTEM_CA_BUNDLE if SYSTEM_CA_BUNDLE.is_file() else None
        self.transport = Transport(cafile, _CONNECT_TIMEOUT, _READ_TIMEOUT)
        self.credentials: Credentials | None = auth.find_credentials(host, environ, pushed_to)
        self.backoff = backoff
        self._authorization: dict[str, str] = {}  # scope -> header value
        # Basic credentials answer every scope: once the registry asked for them,
        # they go with each request instead of after another 401.
        self._basic: str | None = None
        self.transfers = Transfers()

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the request loop: auth, retries, error mapping ---------------------------

    def _url(self, path_or_url: str) -> str:
        return urllib.parse.urljoin(self.base_url + "/", path_or_url)

    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str,
        what: str,
        ok: tuple[int, ...],
        headers: Mapping[str, str] | None = None,
        data: Any = None,
        stream: bool = False,
        params: Mapping[str, str] | None = None,
        retry: bool = True,
    ) -> Response:
        """One API call; retried on transient failures; raises a coded error otherwise.
        Statuses in `ok` (and 404 when listed) are returned to the caller."""
        attempts = _ATTEMPTS if retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._attempt(
                    method,
                    path,
                    scope,
                    what,
                    ok=ok,
                    arguments={"headers": headers, "body": data, "stream": stream, "params": params},
                )
            except _Retry as failure:
                if attempt == attempts:
                    if failure.status is None:
                        self.close()  # no half-open connection outlives the error
                        raise errors.registry_unreachable(self.host, failure.reason) from None
                    raise errors.registry_http_error(
                        self.host, what, failure.status, failure.reason
                    ) from None
                delay = self.backoff * 2 ** (attempt - 1)
                if failure.retry_after is not None:
                    delay = max(delay, min(failure.retry_after, 30.0))
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _attempt(
        self, method: str, path: str, scope: str, what: str, *, ok: tuple[int, ...], arguments: dict[str, Any]
    ) -> Response:
        for authenticated in (False, True):
            sent = dict(arguments["headers"] or {})
            authorization = self._authorization.get(scope) or self._basic
            if authorization:
                sent["Authorization"] = authorization
            try:
                response = self.transport.request(method, self._url(path), **{**arguments, "headers": sent})
            except TransportError as exc:
                if exc.tls:  # another attempt would meet the same certificate
                    raise errors.registry_unreachable(self.host, exc.reason) from None
                raise _Retry(exc.reason) from None
            if (
                response.status == 401
                and not authenticated
                and self._authenticate(response, scope, what)
            ):
                response.close()
                continue
            return self._check(response, what, ok)
        raise AssertionError("unreachable")

    def _check(self, response: Response, what: str, ok: tuple[int, ...]) -> Response:
        status = response.status
        if status in ok:
            return response
        reason = _reason(response)
        response.close()  # its connection goes back to the pool (or is closed), not to the GC
        if status == 429 or status >= 500:
            retry_after = response.headers.get("Retry-After", "")
            raise _Retry(reason, status, float(retry_after) if retry_after.isdigit() else None)
        if status == 401:
            raise errors.registry_unauthorized(self.host, what, self.credentials is not None)
        if status == 403:
            raise errors.registry_forbidden(self.host, what)
        if status == 404:
            raise errors.registry_not_found(self.host, what)
        raise errors.registry_http_error(self.host, what, status, reason)

    def _authenticate(self, response: Response, scope: str, what: str) -> bool:
        """Answer a 401's challenge; False when there is nothing to answer it with."""
        challenge = auth.parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if challenge is None:
            return False
        if challenge.scheme == "basic":
            if self.credentials is None:
                return False
            self._authorization[scope] = self._basic = self.credentials.basic
            return True
        if challenge.scheme != "bearer" or "realm" not in challenge.params:
            return False
        self._authorization[scope] = "Bearer " + self._token(challenge, scope, what)
        return True

    def _token(self, challenge: auth.Challenge, scope: str, what: str) -> str:
        params: list[tuple[str, str]] = []
        if "service" in challenge.params:
            params.append(("service", challenge.params["service"]))
        params += [("scope", item) for item in scope.split(" ") if item]
        headers = {"Authorization": self.credentials.basic} if self.credentials else {}
        try:
            answer = self.transport.request("GET", challenge.params["realm"], params=params, headers=headers)
        except TransportError as exc:
            raise errors.registry_unreachable(self.host, f"its token service failed: {exc.reason}") from None
        if answer.status in (401, 403):
            raise errors.registry_unauthorized(self.host, what, self.credentials is not None)
        try:
            document = answer.json()
            token = str(document.get("token") or document.get("access_token") or "")
        except (ValueError, AttributeError):
            token = ""
        if answer.status != 200 or not token:
            raise errors.registry_http_error(
                self.host, f"getting a token for {what}", answer.status, "no token in the answer"
            )
        output.register_secrets([token])
        return token

    # --- the API ------------------------------------------------------------------

    def get_manifest(self, repository: str, identifier: str, what: str) -> tuple[str, bytes]:
        """The manifest's media type and its exact bytes."""
        response = self.request(
            "GET",
            f"/v2/{repository}/manifests/{identifier}",
            scope=pull_scope(repository),
            what=what,
            ok=(200,),
            headers={"Accept": MANIFEST_TYPES},
            stream=True,
        )
        with response:
            body = response.read(_MAX_MANIFEST + 1)
        if len(body) > _MAX_MANIFEST:
            raise errors.registry_bad_manifest(what, "the manifest is larger than 4 MiB")
        return response.headers.get("Content-Type", "").split(";")[0].strip(), body

    def get_blob(self, repository: str, digest: str, what: str) -> bytes:
        return self.request(
            "GET", f"/v2/{repository}/blobs/{digest}", scope=pull_scope(repository), what=what, ok=(200,)
        ).content

    def stream_blob(self, repository: str, digest: str, what: str) -> Iterator[bytes]:
        response = self.request(
            "GET",
            f"/v2/{repository}/blobs/{digest}",
            scope=pull_scope(repository),
            what=what,
            ok=(200,),
            stream=True,
        )
        with response:
            yield from response.iter_chunks(1 << 20)

    def has_blob(self, repository: str, digest: str) -> bool:
        response = self.request(
            "HEAD",
            f"/v2/{repository}/blobs/{digest}",
            scope=push_scope(repository),
            what=f"checking for blob {digest[:19]} in {repository}",
            ok=(200, 404),
        )
        return response.status == 200

    def mount_blob(self, repository: str, digest: str, source: str) -> bool:
        """Cross-repository mount; False when the registry declined (it then starts
        an upload session, which is abandoned)."""
        response = self.request(
            "POST",
            f"/v2/{repository}/blobs/uploads/",
            scope=f"{push_scope(repository)} {pull_scope(source)}",
            what=f"mounting {digest[:19]} from {source}",
            ok=(201, 202),
            params={"mount": digest, "from": source},
        )
        if response.status == 201:
            self.transfers.mounted.append(digest)
            return True
        location = response.headers.get("Location")
        if location:
            self.request(
                "DELETE",
                location,
                scope=push_scope(repository),
                what="cancelling an upload",
                ok=(200, 202, 204, 404),
                retry=False,
            )
        return False

    def upload_blob(self, repository: str, blob: Blob, chunks: Iterator[bytes] | None = None) -> None:
        """Upload a blob from its file (or from `chunks`, for a copy): monolithic when
        small, in CHUNK_SIZE pieces otherwise. A failed upload starts again."""
        what = f"uploading {blob.digest[:19]} to {repository}"
        start = self.request(
            "POST", f"/v2/{repository}/blobs/uploads/", scope=push_scope(repository), what=what, ok=(202,)
        )
        location = start.headers.get("Location", "")
        if not location:
            raise errors.registry_http_error(self.host, what, 202, "no upload location in the answer")
        if chunks is None and blob.path is not None and blob.size <= CHUNK_SIZE:
            body, headers = blob.path.read_bytes(), {"Content-Type": "application/octet-stream"}
        else:  # the chunks went up with PATCH; the closing PUT carries no body
            location = self._upload_chunks(repository, location, chunks or _file_chunks(blob), what)
            body, headers = b"", {"Content-Length": "0"}
        self.request("PUT", location, scope=push_scope(repository), what=what, ok=(201,),
                     params={"digest": blob.digest}, data=body, headers=headers)
        (self.transfers.copied if chunks is not None else self.transfers.uploaded).append(blob.digest)

    def upload_config(self, repository: str, blob: Blob, data: bytes) -> None:
        what = f"uploading the config to {repository}"
        start = self.request(
            "POST", f"/v2/{repository}/blobs/uploads/", scope=push_scope(repository), what=what, ok=(202,)
        )
        self.request(
            "PUT",
            start.headers.get("Location", ""),
            scope=push_scope(repository),
            what=what,
            ok=(201,),
            params={"digest": blob.digest},
            data=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        self.transfers.uploaded.append(blob.digest)

    def _upload_chunks(self, repository: str, location: str, chunks: Iterator[bytes], what: str) -> str:
        offset = 0
        for chunk in _rechunk(chunks):
            response = self.request(
                "PATCH",
                location,
                scope=push_scope(repository),
                what=what,
                ok=(202,),
                data=chunk,
                retry=False,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Length": str(len(chunk)),
                    "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                },
            )
            offset += len(chunk)
            location = response.headers.get("Location", location)
        return location

    def put_manifest(self, repository: str, tag: str, media_type: str, manifest: bytes) -> str:
        response = self.request(
            "PUT",
            f"/v2/{repository}/manifests/{tag}",
            scope=push_scope(repository),
            what=f"writing the manifest of {repository}:{tag}",
            ok=(201,),
            data=manifest,
            headers={"Content-Type": media_type},
        )
        return response.headers.get("Docker-Content-Digest", "")


def pull_scope(repository: str) -> str:
    return f"repository:{repository}:pull"


def push_scope(repository: str) -> str:
    return f"repository:{repository}:pull,push"


def _file_chunks(blob: Blob) -> Iterator[bytes]:
    if blob.path is None:
        return
    with open(blob.path, "rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def _rechunk(chunks: Iterator[bytes]) -> Iterator[bytes]:
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) >= CHUNK_SIZE:
            yield bytes(pending[:CHUNK_SIZE])
            del pending[:CHUNK_SIZE]
    if pending:
        yield bytes(pending)
