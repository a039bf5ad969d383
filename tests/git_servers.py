"""Real git servers on 127.0.0.1 for the private-dependency tests, started and
stopped by the tests:

- `git_http_server`: `git http-backend` (git's own smart-HTTP CGI program)
  behind a small threaded HTTP server that asks for HTTP Basic credentials;
- `ssh_git_server`: Debian's OpenSSH server (`/usr/sbin/sshd`) on a free port
  with its own host key, letting in one deploy key; git runs `git-upload-pack`
  over it as it does on any git host.

Both serve `demo.git`, a repository holding an installable package whose
`VALUE` says which commit it was installed from.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import free_port

PACKAGE = "leanengine-git-demo"
MODULE = "leanengine_git_demo"
_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@127.0.0.1",
                 "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@127.0.0.1",
                 "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(*args: str | Path, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *map(str, args)], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **_GIT_IDENTITY}).stdout.strip()


@dataclass(frozen=True)
class PackageRepository:
    """A bare repository (`bare`) and the work tree that pushes to it."""
    bare: Path
    work: Path

    def commit_value(self, value: str, branch: str = "main") -> str:
        """Commit a new VALUE on `branch` and push it; the commit's hash."""
        (self.work / MODULE / "__init__.py").write_text(f"VALUE = {value!r}\n")
        git("commit", "--quiet", "--all", "--message", value, cwd=self.work)
        git("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def tag(self, name: str) -> None:
        git("tag", "--annotate", name, "--message", name, cwd=self.work)
        git("push", "--quiet", "origin", name, cwd=self.work)


def package_repository(root: Path) -> PackageRepository:
    """`root/demo.git` with one commit on main: a setuptools project, VALUE = "first"."""
    bare, work = root / "demo.git", root / "work"
    git("init", "--quiet", "--bare", "--initial-branch", "main", bare)
    git("init", "--quiet", "--initial-branch", "main", work)
    (work / MODULE).mkdir()
    (work / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{PACKAGE}"\nversion = "1.0"\n\n'
        f'[tool.setuptools]\npackages = ["{MODULE}"]\n')
    (work / MODULE / "__init__.py").write_text("")
    git("add", ".", cwd=work)
    git("commit", "--quiet", "--message", "project", cwd=work)
    git("remote", "add", "origin", bare, cwd=work)
    repository = PackageRepository(bare, work)
    repository.commit_value("first")
    return repository


# --- git over HTTP ---------------------------------------------------------------

def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class _GitBackendHandler(http.server.BaseHTTPRequestHandler):
    """One request through `git http-backend`, after the Basic credentials."""
    project_root: Path
    authorization: str
    requests: list[str]

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _serve(self) -> None:
        self.requests.append(f"{self.command} {self.path}")
        if self.headers.get("Authorization") != self.authorization:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self._body()
        path, _, query = self.path.partition("?")
        env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(self.project_root),
               "GIT_HTTP_EXPORT_ALL": "1", "REQUEST_METHOD": self.command, "PATH_INFO": path,
               "QUERY_STRING": query, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": "deploy", "REMOTE_ADDR": "127.0.0.1",
               "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
               "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
               "GIT_PROTOCOL": self.headers.get("Git-Protocol", "")}
        answer = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True,
                                check=False).stdout
        head, _, content = answer.partition(b"\r\n\r\n")
        headers = [line.split(":", 1) for line in head.decode().split("\r\n") if ":" in line]
        status = next((value.strip() for name, value in headers if name.lower() == "status"), "200 OK")
        self.send_response(int(status.split()[0]))
        for name, value in headers:
            if name.lower() != "status":
                self.send_header(name, value.strip())
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


@dataclass
class GitHttpServer:
    port: int
    user: str
    password: str
    requests: list[str]

    def url(self, path: str = "demo.git") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


@contextlib.contextmanager
def git_http_server(project_root: Path, user: str, password: str) -> Iterator[GitHttpServer]:
    seen: list[str] = []
    handler = type("Handler", (_GitBackendHandler,), {
        "project_root": project_root, "authorization": _basic(user, password), "requests": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield GitHttpServer(server.server_address[1], user, password, seen)
    finally:
        server.shutdown()
        server.server_close()


# --- git over SSH ----------------------------------------------------------------

@dataclass(frozen=True)
class SshGitServer:
    port: int
    client_key: str  # the deploy key's private half (OpenSSH format)
    known_hosts: str  # the line `ssh-keyscan -p PORT 127.0.0.1` would print

    def url(self, repository: Path) -> str:
        return f"ssh://root@127.0.0.1:{self.port}{repository}"


def new_key(path: Path) -> str:
    """A fresh ed25519 key pair at path (and path.pub); the private half."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)],
                   check=True, capture_output=True)
    return path.read_text()


@contextlib.contextmanager
def ssh_git_server(directory: Path) -> Iterator[SshGitServer]:
    sshd = Path("/usr/sbin/sshd")
    if not sshd.is_file():
        pytest.fail("openssh-server is not installed: `make test` installs it (TEST_PACKAGES)")
    if os.geteuid() != 0:
        pytest.fail("the SSH tests log in as root to a server they start: run them as root")
    directory.mkdir(parents=True, exist_ok=True)
    new_key(directory / "host")
    client_key = new_key(directory / "client")
    shutil.copy(directory / "client.pub", directory / "authorized_keys")
    port = free_port()
    config = directory / "sshd_config"
    config.write_text("\n".join([
        f"Port {port}", "ListenAddress 127.0.0.1", f"HostKey {directory / 'host'}",
        f"AuthorizedKeysFile {directory / 'authorized_keys'}", f"PidFile {directory / 'sshd.pid'}",
        "StrictModes no", "UsePAM no", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password", "AllowUsers root", "LogLevel ERROR", ""]))
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    with (directory / "sshd.log").open("w") as log:
        server = subprocess.Popen([str(sshd), "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL,
                                  stderr=log)
    try:
        _wait_for_port(port, server)
        host_key = (directory / "host.pub").read_text().split()
        yield SshGitServer(port, client_key, f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"sshd exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    pytest.fail("sshd did not start listening")
