"""The layered build cache: reuse when nothing changed, every invalidation rule
explained, corrupt caches, BUILD_NO_CACHE. Killed and concurrent builds: tests/stress."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import (
    REPO,
    Result,
    RuntimeMirror,
    compile_app,
    copy_fixture,
    host_environment,
    http_server,
    move_slug,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
    write_env_dir,
)

pytestmark = pytest.mark.integration
RESTORED = "Restored Python and dependencies from the cache: install inputs unchanged"


@pytest.fixture
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.11.7", "3.12.1")
    return runtime_mirror


def build(mirror_url: str, source: Path, workdir: Path, cache: Path, env_dir: Path | None = None,
          **extra: str) -> tuple[Path, Result]:
    """Build a fresh copy of source in a new directory (platforms build in a new place each time)."""
    app = workdir / f"build-{len(list(workdir.glob('build-*')))}"
    shutil.copytree(source, app, symlinks=True)
    result = compile_app(mirror_url, app, cache, env_dir, **extra)
    assert result.returncode == 0, result.output
    return app, result


def serves(slug: Path, log: Path, expected: str) -> None:
    with start_slug(slug, web_command(slug), log) as app:
        assert wait_for_http(app, "/") == (200, expected)
        stop_with_sigterm(app)


def layers(cache: Path) -> list[str]:
    directory = cache / "python-buildpack" / "layers" / "install"
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def test_nothing_changed_restores_and_the_restored_slug_serves_after_a_move(
    mirror: RuntimeMirror, tmp_path: Path
) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    app, result = build(mirror.url, source, tmp_path, cache)
    assert RESTORED in result.output
    assert "-----> Installing" not in result.output
    # Restored as hard links to the layer's files (a link costs less than a copy) ...
    flask_init = "lib/python3.12/site-packages/flask/__init__.py"
    (layer,) = (cache / "python-buildpack" / "layers" / "install").iterdir()
    assert (app / ".lean/python" / flask_init).stat().st_ino == (layer / "python" / flask_init).stat().st_ino
    slug = move_slug(app, tmp_path / "moved")
    serves(slug, tmp_path / "web.log", "Hello from Flask on Python 3.12\n")
    # ... yet a platform that tars the slug gets plain files, no link entries.
    listing = subprocess.run(["tar", "-cf", "-", "-C", str(slug), "."], capture_output=True, check=True).stdout
    members = subprocess.run(["tar", "-tvf", "-"], input=listing, capture_output=True, check=True).stdout
    assert members
    assert not [line for line in members.splitlines() if line.startswith(b"h")]
    # A file written in place through the slug writes the layer too: the next
    # build finds the layer changed and installs afresh rather than restore it.
    with open(slug / ".lean/python" / flask_init, "a") as linked:
        linked.write("# written in place after the build\n")
    third, after = build(mirror.url, source, tmp_path, cache)
    assert "changed since it was saved" in after.output, after.output
    assert RESTORED not in after.output
    assert "written in place" not in (third / ".lean/python" / flask_init).read_text()


def tree_digest(tree: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(tree.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest.update(str(path.relative_to(tree)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# The install command edits a package file (before the layer is saved: the
# layer holds its result); the build command checks that it got the layer as
# saved, then edits one package file in place and deletes another.
WRITES_INTO_PACKAGES = """\
install:
  - use: default
  - python -c "import werkzeug, pathlib; f = pathlib.Path(werkzeug.__file__); f.write_text(f.read_text() + '# install step\\n')"
build:
  - >-
    python -c "import flask, werkzeug, pathlib, sys;
    d = pathlib.Path(flask.__file__).parent;
    ('# build step' in (d / '__init__.py').read_text() or not (d / 'py.typed').exists()
    or pathlib.Path(werkzeug.__file__).read_text().count('# install step') != 1)
    and sys.exit('the packages were changed before the build');
    open(d / '__init__.py', 'a').write('# build step\\n'); (d / 'py.typed').unlink()"
"""


def test_build_commands_that_change_restored_packages_leave_the_cache_as_it_was(
    mirror: RuntimeMirror, tmp_path: Path
) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    (source / "leanengine.yaml").write_text(WRITES_INTO_PACKAGES)
    cache = tmp_path / "cache"
    first, _ = build(mirror.url, source, tmp_path, cache, SMOKE_CHECK="0")
    (layer,) = (cache / "python-buildpack" / "layers" / "install").iterdir()
    saved = tree_digest(layer)
    site = "lib/python3.12/site-packages/flask"
    assert "# build step" in (first / ".lean/python" / site / "__init__.py").read_text()
    assert "# build step" not in (layer / "python" / site / "__init__.py").read_text()
    # Restored: the build command (which fails on a changed layer) sees the original again.
    second, result = build(mirror.url, source, tmp_path, cache, SMOKE_CHECK="0")
    assert RESTORED in result.output
    assert "before the build commands run, so that these cannot change the cache" in result.output
    assert tree_digest(layer) == saved
    assert not (second / ".lean/python" / site / "py.typed").exists()
    assert (layer / "python" / site / "py.typed").exists()
    assert "# install step" in (layer / "python" / site / "../werkzeug/__init__.py").read_text()


def test_files_written_by_install_commands_come_back_with_the_layer(
    mirror: RuntimeMirror, tmp_path: Path
) -> None:
    source = copy_fixture("yaml-install-build-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    app, result = build(mirror.url, source, tmp_path, cache)
    assert RESTORED in result.output
    assert (app / "installed-by.txt").read_text() == "flask flask"


def _change_requirements(app: Path) -> None:
    (app / "requirements.txt").write_text("Flask>=2,<4\nsix==1.17.0\n")


def _change_python(app: Path) -> None:
    (app / ".python-version").write_text("3.11\n")


def _change_install(app: Path) -> None:
    (app / "leanengine.yaml").write_text("install:\n  - use: default\n  - echo extra step\n")


def _change_run(app: Path) -> None:
    (app / "leanengine.yaml").write_text(
        "run: python -m flask --app wsgi:application run --host 0.0.0.0 --port $LEANCLOUD_APP_PORT\n")


@pytest.mark.parametrize(
    ("change", "reasons"),
    [
        (_change_requirements, ["requirements.txt changed"]),  # updated in place, see below
        (_change_python, ["Python changed from 3.12.1 to 3.11.7", ".python-version changed"]),
        (_change_install, ["the install commands in leanengine.yaml changed"]),
        (_change_run, ["the web command changed between `run:` and the default server"]),
    ],
)
def test_each_input_change_reinstalls_and_says_why(
    mirror: RuntimeMirror, tmp_path: Path, change: object, reasons: list[str]
) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    change(source)  # type: ignore[operator]
    _, result = build(mirror.url, source, tmp_path, cache)
    prefix = "Updating the cached dependencies in place" if change is _change_requirements \
        else "Installing dependencies"
    assert f"{prefix}: {'; '.join(reasons)}" in result.output
    assert RESTORED not in result.output


def test_requirements_change_updates_in_place_and_removes_orphans(
    mirror: RuntimeMirror, tmp_path: Path
) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    (source / "requirements.txt").write_text("Flask>=2,<4\nrequests[socks]==2.32.5\n")
    _, added = build(mirror.url, source, tmp_path, cache, PRINT_BUILD_LOGS="true")
    assert "Updating the cached dependencies in place: requirements.txt changed" in added.output
    # uv (the default) names each package it adds: ` + requests==2.32.5`.
    added_lines = [line.strip() for line in added.output.splitlines() if line.strip().startswith("+ ")]
    assert "+ requests==2.32.5" in added_lines
    assert any(line.startswith("+ pysocks==") for line in added_lines)  # the extra's dependency
    assert not any(line.startswith("+ flask==") for line in added_lines)  # already there: not reinstalled

    (source / "requirements.txt").write_text("Flask>=2,<4\nsix==1.17.0\n")
    app, removed = build(mirror.url, source, tmp_path, cache)
    assert "Removing packages no requirement needs any more: certifi, charset-normalizer, idna, pysocks, " \
        "requests, urllib3" in removed.output
    site = next((app / ".lean" / "python" / "lib").glob("python3.*/site-packages"))
    assert not list(site.glob("requests*"))
    assert list(site.glob("six*"))
    assert list(site.glob("flask"))
    assert list(site.glob("gunicorn"))
    serves(move_slug(app, tmp_path / "moved"), tmp_path / "web.log", "Hello from Flask on Python 3.12\n")


def test_unplain_requirements_reinstall_from_scratch(mirror: RuntimeMirror, tmp_path: Path) -> None:
    source = copy_fixture("require-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    (source / "requirements.txt").write_text("Flask>=2,<4\n./vendor/greeting\nsix\n")
    _, result = build(mirror.url, source, tmp_path, cache)
    assert "Installing dependencies: requirements.txt changed" in result.output


def test_required_file_change_invalidates(mirror: RuntimeMirror, tmp_path: Path) -> None:
    source = copy_fixture("require-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    (source / "vendor" / "greeting" / "greeting" / "__init__.py").write_text('MESSAGE = "changed"\n')
    app, result = build(mirror.url, source, tmp_path, cache)
    assert "Installing dependencies: files named by `require` changed" in result.output
    serves(move_slug(app, tmp_path / "moved"), tmp_path / "web.log", "changed\n")


def test_exposed_variable_change_invalidates_but_hidden_ones_do_not(
    mirror: RuntimeMirror, tmp_path: Path
) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache, write_env_dir(tmp_path / "e1", {"MY_FLAG": "one-value"}))
    _, hidden = build(mirror.url, source, tmp_path, cache, write_env_dir(tmp_path / "e2", {"MY_FLAG": "two-value"}))
    assert RESTORED in hidden.output
    (source / "leanengine.yaml").write_text("exposeEnvironmentsOnBuild: true\n")
    build(mirror.url, source, tmp_path, cache, write_env_dir(tmp_path / "e3", {"MY_FLAG": "two-value"}))
    _, exposed = build(mirror.url, source, tmp_path, cache, write_env_dir(tmp_path / "e4", {"MY_FLAG": "3-value"}))
    assert "environment variables for the install step changed: MY_FLAG" in exposed.output
    assert "3-value" not in exposed.output
    metadata = "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))
    assert "two-value" not in metadata  # only digests of values are kept


def test_changed_runtime_archive_invalidates(mirror: RuntimeMirror, tmp_path: Path) -> None:
    """Same version, another archive (repacked with other gzip settings, so another sha256)."""
    copy = tmp_path / "mirror"
    shutil.copytree(mirror.directory, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    source = copy_fixture("flask-app", tmp_path / "src")
    cache = tmp_path / "cache"
    with http_server(copy) as url:
        build(url, source, tmp_path, cache)
        entry = next(r for r in manifest["runtimes"] if r["version"] == "3.12.1")
        archive = copy / entry["url"]
        archive.write_bytes(gzip.compress(gzip.decompress(archive.read_bytes()), compresslevel=1))
        entry["sha256"] = hashlib.sha256(archive.read_bytes()).hexdigest()
        (copy / "manifest.json").write_text(json.dumps(manifest))
        _, result = build(url, source, tmp_path, cache)
    assert "Installing dependencies: the Python runtime archive changed" in result.output
    assert "Downloaded cpython-3.12.1" in result.output


def test_build_no_cache_ignores_every_layer(mirror: RuntimeMirror, tmp_path: Path) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    app, result = build(mirror.url, source, tmp_path, cache, write_env_dir(tmp_path / "env", {"BUILD_NO_CACHE": "1"}))
    assert "BUILD_NO_CACHE is set: every cached layer, and the previous build's Python line, is ignored" in result.output
    assert "Downloaded cpython-3.12.1" in result.output
    assert "Using cached" not in result.output
    serves(move_slug(app, tmp_path / "moved"), tmp_path / "web.log", "Hello from Flask on Python 3.12\n")


@pytest.mark.parametrize("damage", ["format", "metadata", "python-binary", "archive"])
def test_corrupt_cache_is_discarded_never_fatal(mirror: RuntimeMirror, tmp_path: Path, damage: str) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    root = cache / "python-buildpack"
    [layer] = layers(cache)
    if damage == "format":
        (root / "format.json").write_text("{not json")
    elif damage == "metadata":
        (root / "layers" / "install" / layer / "metadata.json").write_text("\x00\x01")
    elif damage == "python-binary":
        for binary in (root / "layers" / "install" / layer / "python" / "lib").glob("libpython*.so.1.0"):
            binary.write_bytes(b"truncated")
    else:
        (root / "layers" / "install" / layer / "complete").unlink()
        for archive in (root / "runtimes").iterdir():
            archive.write_bytes(archive.read_bytes()[:1000])
    app, result = build(mirror.url, source, tmp_path, cache)
    assert RESTORED not in result.output
    serves(move_slug(app, tmp_path / "moved"), tmp_path / "web.log", "Hello from Flask on Python 3.12\n")
    expected_notice = {
        "format": "Discarding the build cache",
        "metadata": "Installing dependencies:",
        "python-binary": "Discarding a corrupt cached install layer",
        "archive": "Discarding a corrupt cached runtime archive",
    }[damage]
    assert expected_notice in result.output


def _buildpack_copy(tmp_path: Path, edit: dict[str, tuple[str, str]]) -> Path:
    """A copy of this buildpack with some of its files edited (a new release, in effect)."""
    copy = tmp_path / "buildpack"
    for part in ("bin", "lib", "requirements"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    for relative, (old, new) in edit.items():
        path = copy / relative
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
    return copy


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"lib/python_buildpack/__init__.py": ('BUILDPACK_VERSION = "', 'BUILDPACK_VERSION = "9.')},
         "the buildpack version changed"),
        ({"lib/python_buildpack/install/data/tools.yaml": ('"default": {pip: "23.2.1"', '"default": {pip: "23.2.0"')},
         "the pinned build tools changed"),
    ],
)
def test_a_new_buildpack_release_invalidates(mirror: RuntimeMirror, tmp_path: Path,
                                             edit: dict[str, tuple[str, str]], reason: str) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    buildpack = _buildpack_copy(tmp_path, edit)
    app = tmp_path / "new-release-build"
    shutil.copytree(source, app)
    env = host_environment(PYTHON_RUNTIME_MIRROR=mirror.url, BUILDPACK_TOOLS_DIR=str(REPO / ".tools"))
    completed = subprocess.run([str(buildpack / "bin" / "compile"), str(app), str(cache)], env=env,
                               capture_output=True, text=True, check=False, timeout=600)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"Installing dependencies: {reason}" in completed.stdout


def test_cache_from_another_architecture_is_discarded(mirror: RuntimeMirror, tmp_path: Path) -> None:
    source = copy_fixture("flask-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build(mirror.url, source, tmp_path, cache)
    format_file = cache / "python-buildpack" / "format.json"
    written = json.loads(format_file.read_text())
    format_file.write_text(json.dumps({**written, "arch": "another-" + written["arch"]}))
    _, result = build(mirror.url, source, tmp_path, cache)
    assert "Discarding the build cache: it was written by another buildpack format or machine" in result.output
    assert "Installing dependencies: no cached dependencies yet" in result.output
