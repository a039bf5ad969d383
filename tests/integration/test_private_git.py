"""Private git requirements against real git servers these tests start on
127.0.0.1 (tests/git_servers.py): `git http-backend` behind HTTP Basic auth, and
Debian's sshd with a deploy key. The credentials come from ENV_DIR
(GIT_CREDENTIALS, `${VAR}` in requirements.txt, SSH_PRIVATE_KEY and
SSH_KNOWN_HOSTS), reach git during the install step, and appear nowhere: not in
the output, the step logs, the cache, the slug (bin/report's file included);
their private files are gone after the build. A moving ref is resolved with
`git ls-remote` and is part of the cache key."""

from __future__ import annotations

import base64
import secrets
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from git_servers import (
    MODULE,
    PACKAGE,
    GitHttpServer,
    PackageRepository,
    SshGitServer,
    git_http_server,
    new_key,
    package_repository,
    ssh_git_server,
)
from helpers import (
    Result,
    RuntimeMirror,
    assert_user_error,
    compile_app,
    copy_fixture,
    run_bin,
    write_env_dir,
)

pytestmark = pytest.mark.integration
PASSWORD = secrets.token_hex(10) + "/+="  # as real tokens, with characters URL-encoding changes


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> PackageRepository:
    return package_repository(tmp_path_factory.mktemp("git"))


@pytest.fixture(scope="module")
def http_git(repository: PackageRepository) -> Iterator[GitHttpServer]:
    with git_http_server(repository.bare.parent, "deploy", PASSWORD) as server:
        yield server


@pytest.fixture(scope="module")
def ssh_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshGitServer]:
    with ssh_git_server(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def app_requiring(tmp_path: Path, requirement: str) -> Path:
    app = copy_fixture("flask-app", tmp_path / "app")
    (app / "requirements.txt").write_text(f"Flask>=2,<4\n{requirement}\n")
    return app


def build(mirror: RuntimeMirror, app: Path, tmp_path: Path, env: dict[str, str], **host: str) -> Result:
    """bin/compile with a temporary directory of its own, where the private files go."""
    mirror.ensure("3.12.1")
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return compile_app(mirror.url, app, tmp_path / "cache", write_env_dir(tmp_path / "env", env),
                       TMPDIR=str(tmp_path / "tmp"), **host)


def installed_value(app: Path) -> str:
    python = app / ".lean" / "python" / "bin" / "python"
    return subprocess.run([str(python), "-c", f"import {MODULE}; print({MODULE}.VALUE)"],
                          capture_output=True, text=True, check=True).stdout.strip()


def secret_forms(*secrets_: str) -> list[str]:
    """A secret as a tool may print it: plain, URL-encoded, base64, and each line of it."""
    forms = []
    for secret in secrets_:
        forms += [secret, urllib.parse.quote(secret, safe=""), base64.b64encode(secret.encode()).decode()]
        forms += [line for line in secret.splitlines()[1:-1] if len(line) > 20]
    return forms


def assert_nowhere(result: Result, tmp_path: Path, app: Path, *secrets_: str) -> None:
    forms = secret_forms(*secrets_)
    assert [form for form in forms if form in result.output] == []
    encoded = [form.encode() for form in forms]
    trees = (app, tmp_path / "cache", tmp_path / "tmp")  # the slug (its build report too), cache, logs
    leaks = [path for tree in trees for path in tree.rglob("*")
             if path.is_file() and not path.is_symlink() and any(form in path.read_bytes() for form in encoded)]
    assert leaks == []
    # The private directory of the credential file, key and known hosts is gone.
    assert list((tmp_path / "tmp").glob("buildpack-private-*")) == []


def test_https_credentials_and_a_moving_branch(runtime_mirror: RuntimeMirror, repository: PackageRepository,
                                               http_git: GitHttpServer, tmp_path: Path) -> None:
    """GIT_CREDENTIALS for the host; a push to the branch reinstalls, no push restores."""
    app = app_requiring(tmp_path, f"{PACKAGE} @ git+{http_git.url()}@main")
    credentials = {"GIT_CREDENTIALS": f"http://deploy:{urllib.parse.quote(PASSWORD, safe='')}@127.0.0.1:{http_git.port}\n"}
    first = build(runtime_mirror, app, tmp_path, credentials)
    assert first.returncode == 0, first.output
    head = subprocess.run(["git", "rev-parse", "main"], cwd=repository.bare, capture_output=True, text=True,
                          check=True).stdout.strip()
    assert f"git+{http_git.url()}@main is at commit {head[:12]} (git ls-remote)" in first.output
    assert "git gets GIT_CREDENTIALS" in first.output
    assert installed_value(app) == "first"

    again = build(runtime_mirror, app, tmp_path, credentials)
    assert again.returncode == 0, again.output
    assert "Restored Python and dependencies from the cache: install inputs unchanged" in again.output

    pushed = repository.commit_value("second")
    try:
        moved = build(runtime_mirror, app, tmp_path, credentials)
    finally:
        repository.commit_value("first")
    assert moved.returncode == 0, moved.output
    assert f"git+{http_git.url()}@main moved from {head[:12]} to {pushed[:12]}" in moved.output
    assert installed_value(app) == "second"
    report = run_bin("report", app)
    assert report.returncode == 0, report.output
    for result in (first, again, moved, report):
        assert_nowhere(result, tmp_path, app, PASSWORD)


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_a_token_in_requirements_txt_as_a_variable(
        runtime_mirror: RuntimeMirror, http_git: GitHttpServer, tmp_path: Path, installer: str) -> None:
    """`${VAR}` reaches the installer from ENV_DIR without exposeEnvironmentsOnBuild, and only it
    (uv keeps the repositories it fetched in its cache: the URL it wrote there must not hold the token)."""
    url = f"http://deploy:${{GIT_DEMO_TOKEN}}@127.0.0.1:{http_git.port}/demo.git"
    app = app_requiring(tmp_path, f"{PACKAGE} @ git+{url}")
    (app / "leanengine.yaml").write_text("build: test -z \"$GIT_DEMO_TOKEN\"\n")  # not given to build commands
    token = urllib.parse.quote(PASSWORD, safe="")
    result = build(runtime_mirror, app, tmp_path, {"GIT_DEMO_TOKEN": token}, PYTHON_INSTALLER=installer,
                   SMOKE_CHECK="0")
    assert result.returncode == 0, result.output
    assert f"git+http://127.0.0.1:{http_git.port}/demo.git@HEAD is at commit" in result.output
    assert installed_value(app) == "first"
    assert_nowhere(result, tmp_path, app, PASSWORD, token)


def test_ssh_with_a_deploy_key(runtime_mirror: RuntimeMirror, repository: PackageRepository,
                               ssh_git: SshGitServer, tmp_path: Path) -> None:
    repository.tag("v1.0")
    app = app_requiring(tmp_path, f"{PACKAGE} @ git+{ssh_git.url(repository.bare)}@v1.0")
    # The key base64-encoded, as CI systems often store it.
    key = base64.b64encode(ssh_git.client_key.encode()).decode()
    result = build(runtime_mirror, app, tmp_path, {"SSH_PRIVATE_KEY": key, "SSH_KNOWN_HOSTS": ssh_git.known_hosts},
                   SMOKE_CHECK="0")
    assert result.returncode == 0, result.output
    assert f"git+{ssh_git.url(repository.bare)}@v1.0 is at commit" in result.output
    assert installed_value(app) == "first"
    assert_nowhere(result, tmp_path, app, ssh_git.client_key, key)


def test_a_wrong_password(runtime_mirror: RuntimeMirror, http_git: GitHttpServer, tmp_path: Path) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    app = app_requiring(tmp_path, f"{PACKAGE} @ git+{http_git.url()}@main")
    result = build(runtime_mirror, app, tmp_path, {"GIT_CREDENTIALS": f"http://deploy:{wrong}@127.0.0.1:{http_git.port}"})
    assert_user_error(result, "git::auth-refused", f"127.0.0.1:{http_git.port} refused the build's credentials",
                      "git ls-remote of git+", "GIT_CREDENTIALS")
    assert "Installing dependencies" not in result.output  # told before the installer runs
    assert_nowhere(result, tmp_path, app, wrong)


def test_a_wrong_key(runtime_mirror: RuntimeMirror, repository: PackageRepository, ssh_git: SshGitServer,
                     tmp_path: Path) -> None:
    other_key = new_key(tmp_path / "other")
    app = app_requiring(tmp_path, f"{PACKAGE} @ git+{ssh_git.url(repository.bare)}@main")
    result = build(runtime_mirror, app, tmp_path, {"SSH_PRIVATE_KEY": other_key, "SSH_KNOWN_HOSTS": ssh_git.known_hosts})
    assert_user_error(result, "git::auth-refused", "Permission denied (publickey)", "SSH_PRIVATE_KEY")
    assert_nowhere(result, tmp_path, app, other_key)


def test_an_unknown_host_key(runtime_mirror: RuntimeMirror, repository: PackageRepository,
                             ssh_git: SshGitServer, tmp_path: Path) -> None:
    new_key(tmp_path / "impostor")
    impostor = (tmp_path / "impostor.pub").read_text().split()
    known_hosts = f"[127.0.0.1]:{ssh_git.port} {impostor[0]} {impostor[1]}\n"
    app = app_requiring(tmp_path, f"{PACKAGE} @ git+{ssh_git.url(repository.bare)}@main")
    result = build(runtime_mirror, app, tmp_path, {"SSH_PRIVATE_KEY": ssh_git.client_key, "SSH_KNOWN_HOSTS": known_hosts})
    assert_user_error(result, "git::host-key-unknown", f"The SSH host key of 127.0.0.1:{ssh_git.port}",
                      "ssh-keyscan -p PORT HOST", "never turns host-key checking off")
    assert_nowhere(result, tmp_path, app, ssh_git.client_key)


def test_ssh_without_known_hosts(runtime_mirror: RuntimeMirror, repository: PackageRepository,
                                 ssh_git: SshGitServer, tmp_path: Path) -> None:
    app = app_requiring(tmp_path, f"{PACKAGE} @ git+{ssh_git.url(repository.bare)}@main")
    result = build(runtime_mirror, app, tmp_path, {"SSH_PRIVATE_KEY": ssh_git.client_key})
    assert_user_error(result, "git::no-known-hosts", "need the SSH host keys",
                      f"ssh://root@127.0.0.1:{ssh_git.port}{repository.bare}@main", "ssh-keyscan")


def test_a_missing_ref(runtime_mirror: RuntimeMirror, http_git: GitHttpServer, tmp_path: Path) -> None:
    app = app_requiring(tmp_path, f"{PACKAGE} @ git+{http_git.url()}@v9.9.9")
    result = build(runtime_mirror, app, tmp_path, {"GIT_CREDENTIALS": f"http://deploy:{urllib.parse.quote(PASSWORD, safe='')}@127.0.0.1:{http_git.port}"})
    assert_user_error(result, "git::ref-not-found", "has no branch or tag `v9.9.9`", "a full commit hash")


def test_a_variable_the_app_does_not_set(runtime_mirror: RuntimeMirror, http_git: GitHttpServer,
                                         tmp_path: Path) -> None:
    app = app_requiring(tmp_path, f"{PACKAGE} @ git+http://ci:${{GIT_DEMO_TOKEN}}@127.0.0.1:{http_git.port}"
                                  "/demo.git@${GIT_SSH_COMMAND}")
    result = build(runtime_mirror, app, tmp_path, {})
    assert_user_error(result, "env::unset-requirement-variable", "${GIT_DEMO_TOKEN}: not set",
                      "${GIT_SSH_COMMAND}: it configures the build's own tools", "GIT_CREDENTIALS")
