"""Test helpers: run the real bin/ scripts, serve directories over HTTP, start slugs."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
PYENV_VERSIONS = Path(os.environ.get("PYENV_VERSIONS_DIR", "/root/.pyenv/versions"))
ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Placeholder platform variables for starting a built app, as the platform sets them.
LEANCLOUD_ENV = {
    "LEANCLOUD_APP_ID": "test-app-id",
    "LEANCLOUD_APP_KEY": "test-app-key",
    "LEANCLOUD_APP_MASTER_KEY": "test-master-key",
    "LEANCLOUD_APP_ENV": "production",
    "LEANCLOUD_REGION": "US",
    "LEANCLOUD_AVAILABLE_CPUS": "2",
}


def host_environment(**extra: str) -> dict[str, str]:
    """The environment a platform would run bin/ scripts with (this machine's, minus pyenv)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYENV")}
    env.update(extra)
    return env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return ANSI.sub("", self.stdout + self.stderr)


def run_bin(script: str, *args: str | Path, env: Mapping[str, str] | None = None,
            timeout: float = 900) -> Result:
    completed = subprocess.run(
        [str(REPO / "bin" / script), *map(str, args)],
        env=dict(env) if env is not None else host_environment(),
        capture_output=True, text=True, timeout=timeout, check=False,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


def compile_app(mirror_url: str, app: Path, cache: Path, env_dir: Path | None = None,
                **extra_env: str) -> Result:
    """bin/compile as the platform runs it, against a runtime mirror."""
    env = host_environment(PYTHON_RUNTIME_MIRROR=mirror_url, **extra_env)
    return run_bin("compile", app, cache, *([env_dir] if env_dir else []), env=env)


def assert_user_error(result: Result, code: str, *phrases: str) -> None:
    """A failed build: exit 1, the error code on stderr, the phrases anywhere, no traceback."""
    assert result.returncode == 1, result.output
    assert f"[{code}]" in result.stderr, result.output
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output


def write_env_dir(directory: Path, variables: Mapping[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in variables.items():
        (directory / name).write_text(value)
    return directory


def pyenv_prefix(version: str) -> Path:
    prefix = PYENV_VERSIONS / version
    if not (prefix / "bin").is_dir():
        pytest.skip(f"this machine lacks CPython {version} (no {prefix})")
    return prefix


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def http_server(directory: Path, handler: type[http.server.BaseHTTPRequestHandler] | None = None,
                tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve a directory (or `handler`'s answers) on 127.0.0.1, over TLS with `tls`;
    yields the base URL."""
    factory = handler or functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class RuntimeMirror:
    """A mirror directory filled by the real bin/package-runtime, on demand."""

    def __init__(self, directory: Path, url: str) -> None:
        self.directory = directory
        self.url = url

    def versions(self) -> list[str]:
        manifest = self.directory / "manifest.json"
        if not manifest.exists():
            return []
        return [r["version"] for r in json.loads(manifest.read_text())["runtimes"]]

    def ensure(self, *versions: str) -> None:
        for version in versions:
            prefix = pyenv_prefix(version)
            if version not in self.versions():
                result = run_bin("package-runtime", prefix, self.directory)
                assert result.returncode == 0, result.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_fixture(name: str, destination: Path) -> Path:
    target = destination / name
    shutil.copytree(FIXTURES / name, target, symlinks=True)
    return target


def move_slug(slug: Path, destination_root: Path) -> Path:
    """Move the slug to another absolute path, as the platform may do."""
    destination_root.mkdir(parents=True, exist_ok=True)
    target = destination_root / "app"
    shutil.move(str(slug), str(target))
    return target


def web_command(slug: Path) -> str:
    result = run_bin("release", slug)
    assert result.returncode == 0, result.output
    match = re.search(r"^\s+web: (.+)$", result.stdout, re.M)
    assert match, result.stdout
    return match.group(1).strip().strip("'\"")


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


@dataclass
class RunningApp:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_for_http(app: RunningApp, path: str, deadline_seconds: float = 30) -> tuple[int, str]:
    deadline = time.monotonic() + deadline_seconds
    last_error = ""
    while time.monotonic() < deadline:
        if app.process.poll() is not None:
            raise AssertionError(f"the app exited with {app.process.returncode}:\n{app.output()}")
        try:
            return http_get(app.url(path), timeout=2)
        except OSError as error:
            last_error = str(error)
            time.sleep(0.2)
    raise AssertionError(f"no answer on {path} within {deadline_seconds}s ({last_error}):\n{app.output()}")


@contextlib.contextmanager
def start_slug(slug: Path, command: str, log: Path, env: Mapping[str, str] | None = None,
               as_user: Sequence[str] = ()) -> Iterator[RunningApp]:
    """Start the web command the way the contract says; stop it with SIGTERM on exit.
    `as_user`: a command prefix that changes the user (setpriv ...)."""
    port = free_port()
    process_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(slug),
                   "LEANCLOUD_APP_PORT": str(port), **LEANCLOUD_ENV, **(env or {})}
    script = 'for f in .profile.d/*.sh; do . "$f"; done; exec bash -c "$0"'
    with open(log, "wb") as sink:
        process = subprocess.Popen([*as_user, "bash", "-c", script, command], cwd=slug, env=process_env,
                                   stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
    app = RunningApp(process, port, log)
    try:
        yield app
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def stop_with_sigterm(app: RunningApp, grace_seconds: float = 10) -> float:
    """SIGTERM the process group; return how long the app took to exit."""
    started = time.monotonic()
    os.killpg(app.process.pid, signal.SIGTERM)
    app.process.wait(timeout=grace_seconds + 5)
    return time.monotonic() - started


def nltk_index(directory: Path, url: str) -> None:
    """An NLTK data server's index.xml with one corpus, in the format nltk.downloader reads."""
    source = directory / "source" / "tiny_corpus"
    source.mkdir(parents=True)
    (source / "README").write_text("a tiny corpus served by the test\n")
    archive = directory / "packages" / "corpora" / "tiny_corpus.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as writer:
        writer.write(source / "README", "tiny_corpus/README")
    data = archive.read_bytes()
    (directory / "index.xml").write_text(
        '<?xml version="1.0"?>\n<nltk_data><packages>\n'
        f'<package id="tiny_corpus" name="Tiny" subdir="corpora" url="{url}packages/corpora/tiny_corpus.zip"'
        f' size="{len(data)}" unzipped_size="33" checksum="{hashlib.md5(data).hexdigest()}" unzip="1" />\n'  # noqa: S324 -- NLTK's format
        "</packages><collections></collections></nltk_data>\n")


def write_private_index(root: Path) -> None:
    """A PEP 503 index with one wheel that exists nowhere else."""
    root.mkdir(parents=True, exist_ok=True)
    wheel = root / "leanengine_private_demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("leanengine_private_demo/__init__.py", 'VALUE = "from the private index"\n')
        info = "leanengine_private_demo-1.0.dist-info"
        archive.writestr(f"{info}/METADATA",
                         "Metadata-Version: 2.1\nName: leanengine-private-demo\nVersion: 1.0\n")
        archive.writestr(f"{info}/WHEEL",
                         "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")
    project = root / "simple" / "leanengine-private-demo"
    project.mkdir(parents=True)
    (project / "index.html").write_text(f'<a href="../../{wheel.name}">{wheel.name}</a>\n')
