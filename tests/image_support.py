"""Test support for bin/image: a real CNCF distribution registry (Debian's
docker-registry) on 127.0.0.1 with htpasswd or token auth, a token endpoint of
our own, a Debian base image made by mmdebstrap (cached outside the repo), and
podman set up the way this VM needs it (see DESIGN.md)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import REPO, free_port, host_environment, http_server, run_bin

USER = "pusher"
PASSWORD = "s3cret-Pa55word-for-tests"  # noqa: S105 -- a test registry's; long enough to be redacted
# The base: Debian bookworm minbase plus what CPython, its C extensions, and the
# imagemagick fixture need at run time. Keyed by this list in the cache.
BASE_PACKAGES = (
    "ca-certificates", "tzdata", "libssl3", "zlib1g", "libffi8", "libsqlite3-0", "libbz2-1.0",
    "liblzma5", "libreadline8", "libncursesw6", "libuuid1", "libgdbm6", "libexpat1", "libgomp1",
    # what the imagemagick hook's programs take from the build image (the base check names them)
    "libx11-6", "libxext6", "libfontconfig1", "libfreetype6", "libglib2.0-0", "libheif1", "libjbig0",
    "libjpeg62-turbo", "liblcms2-2", "libpng16-16", "libtiff6", "libwebp7", "libxml2",
)
BASE_REPOSITORY = "base/bookworm"
BASE_CACHE = Path(os.environ.get("IMAGE_TEST_CACHE", Path.home() / ".cache" / "leanengine-python-buildpack-tests"))


def tools_available(*names: str) -> None:
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        pytest.skip(f"missing {', '.join(missing)} (make test installs them with apt-get)")


DIGEST = re.compile(r"^-----> Image \S+@(sha256:[0-9a-f]{64})$", re.MULTILINE)


def image_env(**extra: str) -> dict[str, str]:
    return host_environment(IMAGE_REGISTRY_USERNAME=USER, IMAGE_REGISTRY_PASSWORD=PASSWORD, **extra)


def bin_image(slug: Path, reference: str, *args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Run bin/image; returns (manifest digest, output); asserts no secret leaked."""
    result = run_bin("image", slug, reference, *args, env=env or image_env())
    assert result.returncode == 0, result.output
    assert PASSWORD not in result.output
    match = DIGEST.search(result.output)
    assert match, result.output
    return match.group(1), result.output


# --- the registry -----------------------------------------------------------------


@dataclass
class Registry:
    host: str
    log: Path
    root: Path

    def uploads(self, repository: str) -> int:
        """Finished blob uploads (the PUT that closes each) into repository, from the access log."""
        text = self.log.read_text(errors="replace")
        return sum(1 for line in text.splitlines()
                   if f'"PUT /v2/{repository}/blobs/uploads/' in line and '" 201 ' in line)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the registry exited:\n{log.read_text()}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1):
            return
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
        except urllib.error.HTTPError:
            return  # 401: up, and asking for credentials
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the registry did not start:\n{log.read_text()}")


@contextlib.contextmanager
def registry(directory: Path, auth: str) -> Iterator[Registry]:
    """docker-registry serve, on a free port; auth is a YAML block for `auth:`."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = directory / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: info\n  formatter: text\n"
        f"storage:\n  filesystem:\n    rootdirectory: {directory / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: test-secret\n"
        f"auth:\n{auth}"
    )
    log = directory / "registry.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=sink,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_port(port, process, log)
        yield Registry(f"127.0.0.1:{port}", log, directory)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def htpasswd_auth(directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "htpasswd"
    subprocess.run(["htpasswd", "-Bbc", str(path), USER, PASSWORD], check=True, capture_output=True)
    return f"  htpasswd:\n    realm: test-registry\n    path: {path}\n"


# --- a token endpoint of our own (distribution's token auth, RS256 with x5c) ----------


class TokenService:
    """Issues JWTs for Basic-authenticated users, signed by a key whose
    certificate the registry trusts (rootcertbundle)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.key, self.cert = directory / "key.pem", directory / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(self.key),
                        "-out", str(self.cert), "-days", "2", "-subj", "/CN=test-token-issuer"],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", str(self.cert), "-outform", "DER"],
                             check=True, capture_output=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.requests: list[str] = []

    def registry_auth(self, url: str) -> str:
        return (f"  token:\n    realm: {url}\n    service: test-registry\n    issuer: test-issuer\n"
                f"    rootcertbundle: {self.cert}\n")

    def issue(self, scopes: list[str]) -> str:
        def encode(value: bytes) -> str:
            return base64.urlsafe_b64encode(value).rstrip(b"=").decode()

        now = int(time.time())
        access = []
        for scope in scopes:
            kind, _sep, rest = scope.partition(":")
            name, _sep, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": "test-issuer", "sub": USER, "aud": "test-registry", "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": hashlib.sha256(os.urandom(8)).hexdigest(), "access": access}
        signing_input = f"{encode(json.dumps(header).encode())}.{encode(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                                   input=signing_input.encode(), check=True, capture_output=True).stdout
        return f"{signing_input}.{encode(signature)}"

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        service = self
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                service.requests.append(self.path)
                if self.headers.get("Authorization") != expected:
                    self.send_response(401)
                    self.end_headers()
                    return
                body = json.dumps({"token": service.issue(query.get("scope", []))}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        with http_server(Path("."), Handler) as url:
            yield f"{url}token"


# --- a scripted registry (faults on demand) -----------------------------------------

Answer = tuple[int, dict[str, str], bytes]


class Script:
    """Answers per "METHOD path-prefix", consumed in order (the last one repeats)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {}
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []

    def on(self, method: str, prefix: str, *answers: Answer) -> None:
        self.answers[f"{method} {prefix}"] = list(answers)

    def answer(self, method: str, path: str) -> Answer:
        for key in sorted(self.answers, key=len, reverse=True):
            key_method, prefix = key.split(" ", 1)
            if key_method == method and path.startswith(prefix):
                queue = self.answers[key]
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return 404, {}, b'{"errors":[{"code":"NAME_UNKNOWN","message":"not here"}]}'


@contextlib.contextmanager
def scripted_registry() -> Iterator[tuple[Script, str]]:
    """A registry on 127.0.0.1 that answers what the test scripted; yields it and its host."""
    script = Script()

    class Handler(http.server.BaseHTTPRequestHandler):
        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            script.seen.append((self.command, self.path, dict(self.headers), body))
            status, headers, data = script.answer(self.command, self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value.replace("HOST", self.headers["Host"]))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http_server(Path("."), Handler) as url:
        yield script, url.removeprefix("http://").rstrip("/")


# --- the base image ------------------------------------------------------------------


def base_rootfs() -> Path:
    """A bookworm minbase rootfs tar with BASE_PACKAGES (about 80 s once; cached by its list)."""
    key = hashlib.sha256(" ".join(("bookworm", "minbase", *BASE_PACKAGES)).encode()).hexdigest()[:16]
    tar = BASE_CACHE / f"base-bookworm-{key}.tar"
    if tar.is_file():
        return tar
    tools_available("mmdebstrap")
    BASE_CACHE.mkdir(parents=True, exist_ok=True)
    partial = tar.with_name(f".{tar.stem}.{os.getpid()}.part.tar")
    subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase", "--format=tar", f"--include={','.join(BASE_PACKAGES)}",
                    "bookworm", str(partial)], check=True, capture_output=True, timeout=900)
    partial.replace(tar)
    return tar


def gzip_file(source: Path, target: Path) -> None:
    subprocess.run(f"gzip -n -1 < '{source}' > '{target}'", shell=True, check=True)  # noqa: S602


def drop_members(source: Path, target: Path, names: set[str]) -> None:
    """A copy of a rootfs tar without some entries (a base lacking a library)."""
    with tarfile.open(source) as original, tarfile.open(target, "w") as copy:
        for member in original:
            if member.name.lstrip("./") in names:
                continue
            copy.addfile(member, original.extractfile(member) if member.isfile() else None)


def upload_image(registry_host: str, repository: str, tag: str, layer_gz: Path, *, architecture: str = "amd64",
                 credentials: tuple[str, str] | None = (USER, PASSWORD), token_url: str | None = None) -> str:
    """Push a one-layer image with plain HTTP calls (not the code under test); returns its digest."""
    import requests  # noqa: PLC0415 -- the buildpack's dependency, present in .venv

    session = requests.Session()
    session.trust_env = False
    base = f"http://{registry_host}"
    if token_url:
        scope = f"repository:{repository}:pull,push"
        token = session.get(token_url, params={"service": "test-registry", "scope": scope},
                            auth=credentials).json()["token"]
        session.headers["Authorization"] = f"Bearer {token}"
    elif credentials:
        session.auth = credentials
    layer = layer_gz.read_bytes()
    import gzip  # noqa: PLC0415

    diff_id = "sha256:" + hashlib.sha256(gzip.decompress(layer)).hexdigest()
    config = json.dumps({"architecture": architecture, "os": "linux",
                         "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                         "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "mmdebstrap"}]}).encode()

    def put_blob(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = session.post(f"{base}/v2/{repository}/blobs/uploads/")
        assert start.status_code == 202, start.text
        location = urllib.parse.urljoin(base, start.headers["Location"])
        done = session.put(location, params={"digest": digest}, data=data,
                           headers={"Content-Type": "application/octet-stream"})
        assert done.status_code == 201, done.text
        return digest

    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                   "digest": put_blob(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": put_blob(layer)}],
    }).encode()
    answer = session.put(f"{base}/v2/{repository}/manifests/{tag}", data=manifest,
                         headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
    assert answer.status_code == 201, answer.text
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


# --- podman -----------------------------------------------------------------------------


@dataclass
class Podman:
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result


def podman_for(directory: Path, registry_host: str) -> Podman:
    """podman with the settings this VM needs (DESIGN.md), its storage in directory."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "containers.conf"
    conf.write_text('[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n'
                    '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
                    f'events_logfile_path = "{directory / "events.log"}"\n')
    registries = directory / "registries.conf"
    registries.write_text(f'[[registry]]\nlocation = "{registry_host}"\ninsecure = true\n')
    storage = directory / "storage.conf"
    storage.write_text(f'[storage]\ndriver = "overlay"\ngraphroot = "{directory / "graph"}"\n'
                       f'runroot = "{directory / "run"}"\n')
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(directory),
           "CONTAINERS_CONF": str(conf), "CONTAINERS_REGISTRIES_CONF": str(registries),
           "CONTAINERS_STORAGE_CONF": str(storage), "TMPDIR": str(directory)}
    return Podman(env)


def skopeo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=300, check=False,
                            env=env)
    if result.returncode != 0:
        raise AssertionError(f"skopeo {' '.join(args)} failed:\n{result.stderr}")
    return result


def repo_root() -> Path:
    return REPO
