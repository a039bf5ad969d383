"""Bad input ends with exit 1, a coded message saying what and how to fix, no traceback,
and nothing half-written in CACHE_DIR."""

from __future__ import annotations

import functools
import http.server
import json
import re
import secrets
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from helpers import (
    QuietHandler,
    Result,
    RuntimeMirror,
    assert_user_error,
    compile_app,
    copy_fixture,
    free_port,
    host_environment,
    http_server,
    run_bin,
    write_private_index,
)

pytestmark = pytest.mark.integration


def cache_files(cache: Path) -> list[str]:
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file()) if cache.exists() else []


def test_wsgi_without_application(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("no-application-app", tmp_path)
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "app::no-application", "wsgi.py does not define `application`",
                      "application = app")
    assert cache_files(tmp_path / "cache") == []


def test_a_procfile_app_builds_and_its_web_line_serves(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("procfile-app", tmp_path)
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert result.returncode == 0, result.output
    assert "web: from the Procfile line 3" in result.output
    assert "At run time $PORT is $LEANCLOUD_APP_PORT" in result.output
    assert "GET / answered 200" in result.output  # the smoke check started the Procfile's command
    release = run_bin("release", app)
    assert "web: gunicorn app:app --bind 0.0.0.0:$PORT --workers 2" in release.stdout
    assert "release: python -c" in release.stdout
    # run: in leanengine.yaml wins over the Procfile.
    (app / "leanengine.yaml").write_text("run: gunicorn app:app --bind 0.0.0.0:$LEANCLOUD_APP_PORT\n")
    overridden = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert overridden.returncode == 0, overridden.output
    assert "The Procfile's web line is not used: `run:` in leanengine.yaml wins" in overridden.output


def test_version_not_in_mirror_names_what_is(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    (app / ".python-version").write_text("3.12.0\n")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "python-version::not-available", "Python 3.12.0 is not available",
                      "3.12.1", "Use `3.12`")


def test_runtime_txt_prefix_is_not_part_of_the_version(runtime_mirror: RuntimeMirror,
                                                      tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    (app / ".python-version").unlink()
    (app / "runtime.txt").write_text("python-3.10.0\n")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "python-version::not-available", "Python 3.10.0 is not available",
                      'runtime.txt asks for Python 3.10.0 (it says "python-3.10.0")')
    assert "Python python-" not in result.output


def test_empty_python_version_file_says_it_is_empty(runtime_mirror: RuntimeMirror,
                                                    tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    (app / ".python-version").write_text("\n  \n")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "python-version::empty", ".python-version is empty", "  3.12")
    assert 'Found ""' not in result.output


def test_old_patch_pin_names_the_newest_and_suggests_the_line(
    runtime_mirror: RuntimeMirror, tmp_path: Path
) -> None:
    runtime_mirror.ensure("3.8.18")
    app = copy_fixture("flask-app", tmp_path)
    (app / ".python-version").write_text("3.8.10\n")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "python-version::not-available", "Python 3.8.10 is not available",
                      "3.8.18", "Use `3.8`")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"system\n", "python-version::system"),
        (b"\xff\xfe\x00garbage\x00", "python-version::unreadable"),
        (b"3" * 10000, "python-version::unreadable"),
        (b"pypy3.10\n", "python-version::unsupported-implementation"),
        (b"latest please\n", "python-version::invalid"),
        (b"\n# only a comment\n", "python-version::empty"),
        (b"", "python-version::empty"),
    ],
)
def test_bad_python_version_file(runtime_mirror: RuntimeMirror, tmp_path: Path,
                                 content: bytes, code: str) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    (app / ".python-version").write_bytes(content)
    assert_user_error(compile_app(runtime_mirror.url, app, tmp_path / "cache"), code)


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_requirement_the_installer_cannot_find(runtime_mirror: RuntimeMirror, tmp_path: Path,
                                              installer: str) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    (app / "requirements.txt").write_text("leanengine-no-such-package-xyz==1.0\n")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache", PYTHON_INSTALLER=installer)
    assert_user_error(result, "pip::no-such-package", f"{installer} could not install the app's requirements",
                      "leanengine-no-such-package-xyz",  # pip adds `==1.0`, uv names the project
                      "is not on the package index",
                      "https://pypi.org/project/leanengine-no-such-package-xyz/")


def test_mirror_down(tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    result = compile_app(f"http://127.0.0.1:{free_port()}/", app, tmp_path / "cache")
    assert_user_error(result, "mirror::unreachable", "connection failed")
    assert cache_files(tmp_path / "cache") == []


def test_mirror_not_configured(tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    env = host_environment()
    env.pop("PYTHON_RUNTIME_MIRROR", None)
    assert_user_error(run_bin("compile", app, tmp_path / "cache", env=env), "mirror::not-configured")


def test_wrong_checksum_keeps_nothing(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    bad_mirror = tmp_path / "bad-mirror"
    shutil.copytree(runtime_mirror.directory, bad_mirror)
    manifest = json.loads((bad_mirror / "manifest.json").read_text())
    for entry in manifest["runtimes"]:
        entry["sha256"] = "0" * 64
    (bad_mirror / "manifest.json").write_text(json.dumps(manifest))
    app = copy_fixture("flask-app", tmp_path)
    with http_server(bad_mirror) as url:
        result = compile_app(url, app, tmp_path / "cache")
    assert_user_error(result, "mirror::checksum-mismatch", "0" * 64)
    leftovers = [f for f in cache_files(tmp_path / "cache") if "runtimes" in f or "layers" in f or "part" in f]
    assert leftovers == []
    assert not (app / ".lean" / "python").exists()


def test_mirror_404(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    app = copy_fixture("flask-app", tmp_path)
    with http_server(empty) as url:
        result = compile_app(url, app, tmp_path / "cache")
    assert_user_error(result, "mirror::http-error", "HTTP 404")


def test_other_runtime_is_refused(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("flask-app", tmp_path)
    (app / "leanengine.yaml").write_text("runtime: nodejs\n")
    assert_user_error(compile_app(runtime_mirror.url, app, tmp_path / "cache"),
                      "leanengine-yaml::other-runtime", '"nodejs"')


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_secrets_from_env_dir_never_printed(runtime_mirror: RuntimeMirror, tmp_path: Path,
                                            installer: str) -> None:
    """pip prints its index URLs (whole, and as paths); a token in PIP_EXTRA_INDEX_URL must not reach the log."""
    runtime_mirror.ensure("3.12.1")
    master_key = secrets.token_hex(16)
    token = secrets.token_hex(12)
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    (env_dir / "LEANCLOUD_APP_MASTER_KEY").write_text(master_key)
    app = copy_fixture("flask-app", tmp_path)
    (app / "requirements.txt").write_text("leanengine-no-such-package-xyz==1.0\n")
    empty_index = tmp_path / "empty-index"
    empty_index.mkdir()
    with http_server(empty_index) as url:  # answers 404 for everything, at once
        (env_dir / "PIP_EXTRA_INDEX_URL").write_text(f"{url}{token}/simple\n")
        result = compile_app(runtime_mirror.url, app, tmp_path / "cache", env_dir,
                             PYTHON_INSTALLER=installer)
    assert result.returncode == 1
    if installer == "pip":
        assert "[redacted]" in result.output  # pip did try to print the index URL
    assert master_key not in result.output
    assert token not in result.output


@pytest.mark.parametrize("installer", ["pip", "uv"])
def test_private_index_from_env_dir_is_used_and_host_pip_config_is_not(
    runtime_mirror: RuntimeMirror, tmp_path: Path, installer: str
) -> None:
    runtime_mirror.ensure("3.12.1")
    index = tmp_path / "index"
    write_private_index(index)
    broken_config = tmp_path / "host-pip.conf"
    broken_config.write_text(f"[global]\nindex-url = http://127.0.0.1:{free_port()}/nothing\n")
    app = copy_fixture("flask-app", tmp_path)
    (app / "requirements.txt").write_text("Flask>=2,<4\nleanengine-private-demo==1.0\n")
    env_dir = tmp_path / "env"
    env_dir.mkdir()
    handler = functools.partial(QuietHandler, directory=str(index))
    with http_server(index, handler) as url:
        (env_dir / "PIP_EXTRA_INDEX_URL").write_text(url + "simple")
        result = compile_app(runtime_mirror.url, app, tmp_path / "cache", env_dir,
                              PIP_CONFIG_FILE=str(broken_config),
                              PIP_INDEX_URL=f"http://127.0.0.1:{free_port()}/host-index",
                              PYTHON_INSTALLER=installer)
    assert result.returncode == 0, result.output
    python = app / ".lean" / "python" / "bin" / "python"
    value = subprocess.run([str(python), "-c", "import leanengine_private_demo as m; print(m.VALUE)"],
                           capture_output=True, text=True, check=True).stdout
    assert value.strip() == "from the private index"


def test_release_after_a_failed_build_fails_and_after_a_good_one_works(
    runtime_mirror: RuntimeMirror, tmp_path: Path
) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    never_compiled = run_bin("release", app)  # the contract: an uncompiled app gets the default
    assert never_compiled.returncode == 0, never_compiled.output
    assert "web: gunicorn --config .lean/gunicorn.conf.py" in never_compiled.stdout
    (app / ".python-version").write_text("pypy3.10\n")
    assert compile_app(runtime_mirror.url, app, tmp_path / "cache").returncode == 1
    refused = run_bin("release", app)
    assert_user_error(refused, "release::build-failed",
                      "failed with [python-version::unsupported-implementation]")
    assert refused.stdout == ""
    (app / ".python-version").write_text("3.12\n")
    built = compile_app(runtime_mirror.url, app, tmp_path / "cache", SMOKE_CHECK="0")
    assert built.returncode == 0, built.output
    released = run_bin("release", app)
    assert released.returncode == 0, released.output
    assert "web: gunicorn --config .lean/gunicorn.conf.py" in released.stdout


def test_usage_errors() -> None:
    result = run_bin("compile")
    assert_user_error(result, "cli::usage", "bin/compile BUILD_DIR CACHE_DIR [ENV_DIR]")



class FlakyMirror(QuietHandler):
    """Serves the mirror, but the first GET of each archive fails: a 503, then a
    body cut off halfway (a real broken transfer, produced on loopback)."""

    failures: dict[str, int] = {}  # noqa: RUF012 - shared across handler instances on purpose

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        if self.path.endswith(".tar.gz"):
            seen = self.failures.get(self.path, 0)
            self.failures[self.path] = seen + 1
            if seen == 0:
                self.send_error(503)
                return
            if seen == 1:
                data = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.close_connection = True
                return
        super().do_GET()


def test_transient_mirror_failures_are_retried(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    handler = functools.partial(FlakyMirror, directory=str(runtime_mirror.directory))
    FlakyMirror.failures = {}
    with http_server(runtime_mirror.directory, handler) as url:
        result = compile_app(url, app, tmp_path / "cache")
    assert result.returncode == 0, result.output
    assert "Downloaded cpython-3.12.1" in result.output
    assert max(FlakyMirror.failures.values()) >= 3  # 503, truncated, then whole


def test_requirements_linking_out_of_the_app_is_refused(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    (app / "requirements.txt").unlink()
    (app / "requirements.txt").symlink_to("/etc/shadow")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "app::unsafe-file", "requirements.txt is a link that leads out of the app")
    assert "root:" not in result.output


def test_known_bad_requirements_are_named_before_pip_runs(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.11.7")
    app = copy_fixture("flask-app", tmp_path)
    (app / ".python-version").write_text("3.11\n")
    (app / "requirements.txt").write_text("leancloud\nFlask\nleanengine-no-such-package-xyz==1.0\n")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert result.returncode == 1, result.output
    assert re.search(r"\[pip::(no-such-package|build-failed)\]", result.stderr), result.output
    assert "Flask is not pinned below 2 next to leancloud" in result.output
    # (leancloud on 3.12: an error before pip runs, tests/integration/test_version_policy.py.)


# --- git requirements, metadata pip refuses, builds that cannot succeed ------------------


class AskForCredentials(http.server.BaseHTTPRequestHandler):
    """A git host that wants credentials (HTTP 401) for everything, as a private repository does."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def git_requirement_app(tmp_path: Path, url: str) -> Path:
    app = copy_fixture("flask-app", tmp_path)
    (app / "requirements.txt").write_text(f"Flask>=2,<4\nleanengine-git-demo @ git+{url}\n")
    return app


def served_git_repository(root: Path) -> Path:
    """A bare one-commit repository of a tiny package under root/org/demo.git, ready for
    git's "dumb" HTTP protocol (plain files; pip refuses `name @ git+file:///` URLs)."""
    work = root / "work"
    (work / "demo").mkdir(parents=True)
    (work / "demo" / "__init__.py").write_text("")
    (work / "setup.py").write_text(
        'from setuptools import setup\nsetup(name="leanengine-git-demo", version="1.0", packages=["demo"])\n')
    bare = root / "org" / "demo.git"
    for argv, cwd in ((["init", "-q", "-b", "main"], work), (["add", "."], work),
                      (["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "init"], work),
                      (["clone", "-q", "--bare", str(work), str(bare)], root),
                      (["update-server-info"], bare)):
        subprocess.run(["git", *argv], cwd=cwd, check=True, capture_output=True)
    return root


def test_git_requirement_on_an_unreachable_host(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    port = free_port()
    app = git_requirement_app(tmp_path, f"http://127.0.0.1:{port}/org/repo.git")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "git::unreachable", f"The build machine could not reach 127.0.0.1:{port}",
                      f"git ls-remote of git+http://127.0.0.1:{port}/org/repo.git@HEAD failed",
                      "fatal: unable to access", "reachable from the build machine")
    assert "Installing dependencies" not in result.output  # told before the installer runs


def test_git_requirement_needing_credentials_hides_the_token(runtime_mirror: RuntimeMirror,
                                                             tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    token = "ghp_" + secrets.token_hex(12)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AskForCredentials)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # A token as the user name: pip masks only a password, and printed this one.
        url = f"http://{token}:x-oauth-basic@127.0.0.1:{server.server_address[1]}/org/private.git"
        app = git_requirement_app(tmp_path, url)
        result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    finally:
        server.shutdown()
        server.server_close()
    assert_user_error(result, "git::auth-refused",
                      f"127.0.0.1:{server.server_address[1]} refused the build's credentials",
                      "fatal: Authentication failed for", "GIT_CREDENTIALS",
                      f"git+http://127.0.0.1:{server.server_address[1]}/org/private.git@HEAD")
    assert token not in result.output
    logs = (tmp_path / "cache").rglob("*.log")
    assert all(token not in log.read_text() for log in logs)


def test_git_requirement_with_a_ref_that_does_not_exist(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    """git's "dumb" HTTP protocol (plain files) answers ls-remote too."""
    runtime_mirror.ensure("3.12.1")
    served = served_git_repository(tmp_path / "git")
    with http_server(served) as base:
        app = git_requirement_app(tmp_path, f"{base}org/demo.git@v9.9.9")
        result = compile_app(runtime_mirror.url, app, tmp_path / "cache")
    assert_user_error(result, "git::ref-not-found", "has no branch or tag `v9.9.9`",
                      f"git+{base}org/demo.git@v9.9.9", "a full commit hash")


@pytest.mark.parametrize(("installer", "git_says"), [
    ("pip", "did not match any file(s) known to git"),  # pip clones, then checks the ref out
    ("uv", "failed to find branch, tag, or commit `0123abc`"),
])
def test_git_requirement_with_a_short_commit_that_does_not_exist(
        runtime_mirror: RuntimeMirror, tmp_path: Path, installer: str, git_says: str) -> None:
    """A short hash cannot be told from a commit by ls-remote: the installer finds it missing."""
    runtime_mirror.ensure("3.12.1")
    served = served_git_repository(tmp_path / "git")
    with http_server(served) as base:
        app = git_requirement_app(tmp_path, f"{base}org/demo.git@0123abc")
        result = compile_app(runtime_mirror.url, app, tmp_path / "cache", PYTHON_INSTALLER=installer)
    assert_user_error(result, "pip::vcs-ref-not-found",
                      "Error: The git repository of leanengine-git-demo has no `0123abc`",
                      git_says, f"The repository: {base}org/demo.git",
                      "branch, tag or full commit hash")
    assert "PyPI" not in result.stderr


def build_requirements(runtime_mirror: RuntimeMirror, tmp_path: Path, requirements: str,
                       python: str = "3.12.1", **env: str) -> Result:
    """bin/compile of the Flask fixture with other requirements, on one exact Python."""
    runtime_mirror.ensure(python)
    app = copy_fixture("flask-app", tmp_path)
    (app / ".python-version").write_text(f"{python}\n")
    (app / "requirements.txt").write_text(requirements)
    return compile_app(runtime_mirror.url, app, tmp_path / "cache", **env)


def test_a_release_whose_metadata_pip_24_refuses(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    """celery 5.2.0 declares `pytz (>dev)`: Python 3.13.0's own pip 24.2 skips the release."""
    # pip's diagnosis: uv (the default) installs the release.
    result = build_requirements(runtime_mirror, tmp_path, "celery==5.2.0\n", python="3.13.0",
                                PYTHON_INSTALLER="pip")
    assert_user_error(result, "pip::invalid-metadata",
                      "Error: celery 5.2.0 has invalid metadata, which pip 24.2 refuses",
                      "Expected matching RIGHT_PARENTHESIS", "PYTHON_INSTALLER=uv", "older than 24.1")
    assert "No release of" not in result.stderr
    assert "the index has" not in result.stderr


def test_gdal_is_not_advised_a_remedy_that_does_not_exist(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    """GDAL publishes no wheels on PyPI, and no systemDependencies entry provides gdal-config."""
    result = build_requirements(runtime_mirror, tmp_path, "GDAL==3.10.0\n")
    # Not assert_user_error: GDAL's own traceback is rightly in the quoted tail of pip's output.
    assert result.returncode == 1, result.output
    assert "[pip::build-failed]" in result.stderr, result.output
    assert "Internal error" not in result.output
    assert "No such file or directory: 'gdal-config'" in result.stderr
    # uv (the default) names the project as normalised: `gdal`.
    told = result.stderr.lower()
    assert "if a release of gdal publishes wheels for linux and python 3.12.1" in told
    assert "none of the systemdependencies entries is known to provide what gdal builds against" in told
    assert "use a version of gdal that has wheels" not in told
    assert "provide the native library it builds against with systemdependencies" not in told
