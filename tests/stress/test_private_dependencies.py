"""The secret scan over private dependencies: one build fetching a package from a
private index with a NETRC (pypiserver, tests/private_index.py), a package over
HTTP with GIT_CREDENTIALS and the same package over SSH with a deploy key (git
servers on 127.0.0.1, tests/git_servers.py), every command's output streamed
(PRINT_BUILD_LOGS), the app's variables exposed to a build command that prints
them all and fails if git's private files are still there. No form of any
credential appears in the output, the step logs, the cache or the slug; git's
files are gone before the build commands run, the netrc when the build ends;
nothing is written outside."""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from git_servers import (
    PACKAGE,
    GitHttpServer,
    PackageRepository,
    SshGitServer,
    git_http_server,
    package_repository,
    ssh_git_server,
)
from helpers import RuntimeMirror
from private_index import PACKAGE as INDEX_PACKAGE
from private_index import PrivateIndex, pypi_server

from stress.support import Figures, Sandbox, app_from_fixture, build_in, secret_env_dir

pytestmark = [pytest.mark.stress, pytest.mark.integration]
TOKEN = "glpat-" + base64.b32encode(b"stress-token-1234").decode().strip("=")


@pytest.fixture(scope="module")
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.12.1")
    return runtime_mirror


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[PackageRepository, GitHttpServer, SshGitServer, PrivateIndex]]:
    repository = package_repository(tmp_path_factory.mktemp("git"))
    with git_http_server(repository.bare.parent, "deploy", TOKEN) as http_git, \
            ssh_git_server(tmp_path_factory.mktemp("sshd")) as ssh_git, \
            pypi_server(tmp_path_factory.mktemp("index")) as index:
        yield repository, http_git, ssh_git, index


def test_private_git_dependencies_leave_no_secret(
        mirror: RuntimeMirror, tmp_path: Path, figures: Figures,
        servers: tuple[PackageRepository, GitHttpServer, SshGitServer, PrivateIndex]) -> None:
    repository, http_git, ssh_git, index = servers
    sandbox = Sandbox(tmp_path / "sandbox")
    app_from_fixture(sandbox)
    (sandbox.app / "requirements.txt").write_text(
        f"Flask>=2,<4\n{INDEX_PACKAGE}==1.0\n{PACKAGE} @ git+{http_git.url()}@main\n")
    # Installed again over SSH by an install command: git's credentials reach those too.
    (sandbox.app / "requirements-ssh.txt").write_text(f"{PACKAGE} @ git+{ssh_git.url(repository.bare)}@main\n")
    (sandbox.app / "leanengine.yaml").write_text(
        "exposeEnvironmentsOnBuild: true\n"
        "install:\n  - {use: default}\n  - pip install --no-deps --force-reinstall -r requirements-ssh.txt\n"
        "build:\n  - env | sort\n  - test -z \"$(ls \"$TMPDIR\"/buildpack-private-*/{git-credentials,ssh-key,known-hosts} 2>/dev/null)\"\n")
    private = tmp_path / "private-tmp"
    private.mkdir()
    credentials = f"http://deploy:{TOKEN}@127.0.0.1:{http_git.port}"
    netrc = f"machine 127.0.0.1 login {index.user} password {index.password}\n"
    env = secret_env_dir(sandbox.root / "env", GIT_CREDENTIALS=credentials, SSH_PRIVATE_KEY=ssh_git.client_key,
                         SSH_KNOWN_HOSTS=ssh_git.known_hosts, PIP_EXTRA_INDEX_URL=index.url, NETRC=netrc)
    row = figures.row("private dependencies: index netrc, git HTTPS token, SSH deploy key; logs streamed")
    row.trials += 1
    result = build_in(sandbox, mirror.url, env, PRINT_BUILD_LOGS="true", TMPDIR=str(private))
    assert result.returncode == 0, result.output
    assert "Successfully installed leanengine-git-demo" in result.output  # the SSH install command ran
    key_lines = [line for line in ssh_git.client_key.splitlines() if not line.startswith("-----")]
    forms = [TOKEN, urllib.parse.quote(TOKEN), base64.b64encode(f"deploy:{TOKEN}".encode()).decode(),
             base64.b64encode(ssh_git.client_key.encode()).decode(), *key_lines, *index.forms()]
    leaked = [form for form in forms if form in result.output]
    leaked_files = [str(path) for tree in (sandbox.app, sandbox.cache, private) for path in tree.rglob("*")
                    if path.is_file() and not path.is_symlink()
                    and any(form.encode() in path.read_bytes() for form in forms)]
    row.add_leaks(len(leaked) + len(leaked_files) + env.leaks(result.output))
    row.add_outside(sandbox.bytes_outside())
    assert leaked == []
    assert leaked_files == []
    assert env.leaks(result.output) == 0
    assert list(private.glob("buildpack-private-*")) == []
    assert sandbox.bytes_outside() == 0
    row.passed += 1
