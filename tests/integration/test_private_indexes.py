"""A private package index that wants a password: pypiserver (from PyPI) with an
htpasswd file, started on 127.0.0.1 by these tests. The credentials come from
ENV_DIR (in the URL, in NETRC, or as uv's index variables), reach pip, uv and
the lockfile install, and appear nowhere: not in the output, the step logs,
the cache or the slug, in any of their forms."""

from __future__ import annotations

import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import (
    Result,
    RuntimeMirror,
    assert_user_error,
    compile_app,
    copy_fixture,
    pyenv_prefix,
    write_env_dir,
)
from private_index import PACKAGE, PrivateIndex, pypi_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def private_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateIndex]:
    with pypi_server(tmp_path_factory.mktemp("private-index")) as index:
        yield index


def build(mirror: RuntimeMirror, app: Path, cache: Path, env_dir: Path, **env: str) -> Result:
    """bin/compile with a temporary directory of its own, where the private netrc goes."""
    (cache.parent / "tmp").mkdir(exist_ok=True)
    return compile_app(mirror.url, app, cache, env_dir, TMPDIR=str(cache.parent / "tmp"), SMOKE_CHECK="0", **env)


def app_needing_the_package(tmp_path: Path) -> Path:
    app = copy_fixture("flask-app", tmp_path)
    (app / "requirements.txt").write_text(f"Flask>=2,<4\n{PACKAGE}==1.0\n")
    return app


def assert_installed_and_secret(app: Path, cache: Path, result: Result, index: PrivateIndex) -> None:
    assert result.returncode == 0, result.output
    python = app / ".lean" / "python" / "bin" / "python"
    value = subprocess.run([str(python), "-c", "import leanengine_private_demo as m; print(m.VALUE)"],
                           capture_output=True, text=True, check=True).stdout
    assert value.strip() == "from the private index"
    assert_nowhere(index, result.output, app, cache)


def assert_nowhere(index: PrivateIndex, output: str, *trees: Path) -> None:
    forms = [form.encode() for form in index.forms()]
    assert not [form for form in index.forms() if form in output]
    leaks = [path for tree in trees for path in tree.rglob("*")
             if path.is_file() and not path.is_symlink() and any(form in path.read_bytes() for form in forms)]
    assert leaks == []
    for tree in trees:
        assert not list((tree.parent / "tmp").glob("buildpack-private-*"))  # the netrc is gone


def credentials_in(where: str, index: PrivateIndex) -> dict[str, str]:
    if where == "url":
        return {"PIP_EXTRA_INDEX_URL": index.url_with_credentials}
    netrc = f"machine 127.0.0.1\n  login {index.user}\n  password {index.password}\n"
    return {"PIP_EXTRA_INDEX_URL": index.url, "NETRC": netrc}


@pytest.mark.parametrize("installer", ["pip", "uv"])
@pytest.mark.parametrize("where", ["url", "netrc"])
def test_credentials_in_the_index_url_or_a_netrc(runtime_mirror: RuntimeMirror, private_index: PrivateIndex,
                                                 tmp_path: Path, installer: str, where: str) -> None:
    runtime_mirror.ensure("3.12.1")
    app, cache = app_needing_the_package(tmp_path / "app"), tmp_path / "cache"
    env_dir = write_env_dir(tmp_path / "env", credentials_in(where, private_index))
    result = build(runtime_mirror, app, cache, env_dir, PYTHON_INSTALLER=installer)
    assert_installed_and_secret(app, cache, result, private_index)


def test_uvs_named_index_and_a_lock(runtime_mirror: RuntimeMirror, private_index: PrivateIndex,
                                    tmp_path: Path) -> None:
    """uv's own variables, and a uv.lock made against the private index (by the real uv)."""
    runtime_mirror.ensure("3.12.1")
    app = tmp_path / "app"
    shutil.copytree(copy_fixture("uv-app", tmp_path / "fixture"), app)
    (app / "pyproject.toml").write_text(
        '[project]\nname = "private-app"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        f'dependencies = ["flask==3.1.3", "{PACKAGE}==1.0"]\n\n'
        f'[[tool.uv.index]]\nname = "private"\nurl = "{private_index.url}"\n')
    (app / "uv.lock").unlink()
    credentials = {"UV_INDEX_PRIVATE_USERNAME": private_index.user, "UV_INDEX_PRIVATE_PASSWORD": private_index.password}
    python = pyenv_prefix("3.12.1") / "bin" / "python3.12"
    # The test's own uv (the app's developer): no user or system uv.toml, the project's index.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_DIRS": str(tmp_path),
           "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_SYSTEM_CERTS": "1", **credentials}
    locked = subprocess.run([str(Path(sys.executable).parent / "uv"), "lock", "--python", str(python)], cwd=app,
                            check=False, capture_output=True, text=True, env=env)
    assert locked.returncode == 0, locked.stderr
    assert private_index.password not in (app / "uv.lock").read_text()
    env_dir = write_env_dir(tmp_path / "env", {"UV_INDEX": f"private={private_index.url}", **credentials})
    cache = tmp_path / "cache"
    result = build(runtime_mirror, app, cache, env_dir)
    assert "uv.lock" in result.output
    assert_installed_and_secret(app, cache, result, private_index)


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_a_wrong_password_fails_without_showing_it(runtime_mirror: RuntimeMirror, private_index: PrivateIndex,
                                                   tmp_path: Path, installer: str) -> None:
    runtime_mirror.ensure("3.12.1")
    app, cache = app_needing_the_package(tmp_path / "app"), tmp_path / "cache"
    wrong = PrivateIndex(private_index.port, private_index.user, "wrong-" + secrets.token_hex(8))
    env_dir = write_env_dir(tmp_path / "env", credentials_in("url", wrong))
    result = build(runtime_mirror, app, cache, env_dir, PYTHON_INSTALLER=installer)
    assert_user_error(result, "pip::index-auth-refused",
                      "The package index at 127.0.0.1 refused the build's credentials",
                      "The index is set by PIP_EXTRA_INDEX_URL")
    assert_nowhere(wrong, result.output, app, cache)


def test_a_netrc_that_is_not_one(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path / "app")
    env_dir = write_env_dir(tmp_path / "env", {"NETRC": "/home/me/.netrc-with-a-secret-path"})
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache", env_dir, SMOKE_CHECK="0")
    assert_user_error(result, "env::bad-netrc", "not a .netrc file")
    assert "/home/me/.netrc-with-a-secret-path" not in result.output
