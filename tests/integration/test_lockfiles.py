"""Apps that declare their packages in pyproject.toml and lock them with uv,
Poetry, Pipenv or PEP 751 (and a bare pyproject.toml): built with the real
tools against PyPI, moved, served and stopped with SIGTERM. Each installs
exactly its lock's default group, never its dev group; a stale lock, a hash
the index does not serve and a package that does not exist are clear errors
that leave no install layer in the cache.

The fixtures' locks were written by the real tools (fixtures/LOCKFILE-NOTES.md).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from helpers import (
    Result,
    RuntimeMirror,
    assert_user_error,
    compile_app,
    copy_fixture,
    move_slug,
    pyenv_prefix,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)

pytestmark = pytest.mark.integration

# Each fixture's dev group: pytest and what it needs (colorama only on Windows).
DEV_ONLY = {"pytest", "iniconfig", "pluggy", "pygments", "colorama"}
MANAGER_LINES = {
    "uv-app": "Installing exactly uv.lock (uv)",
    "poetry-app": "Installing exactly poetry.lock (Poetry)",
    "pipenv-app": "Installing exactly Pipfile.lock (Pipenv)",
    "pylock-app": "Installing exactly pylock.toml (PEP 751)",
    "pyproject-app": "pyproject.toml has no lock",
}
DESCRIBED = {
    "uv-app": "uv.lock (uv)",
    "poetry-app": "poetry.lock (Poetry)",
    "pipenv-app": "Pipfile.lock (Pipenv)",
    "pylock-app": "pylock.toml (PEP 751)",
    "pyproject-app": "pyproject.toml (no lock: pip install .)",
}
PROJECTS = {"uv-app": ("uv-app", "0.1.0"), "pyproject-app": ("pyproject-app", "0.1.0")}


@pytest.fixture
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.12.1")
    return runtime_mirror


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(slug: Path) -> dict[str, str]:
    """name -> version of every distribution in the slug's site-packages."""
    found = {}
    for dist_info in slug.glob(".lean/python/lib/python3.12/site-packages/*.dist-info"):
        metadata = (dist_info / "METADATA").read_text()
        name = re.search(r"^Name: (.+)$", metadata, re.M)
        version = re.search(r"^Version: (.+)$", metadata, re.M)
        assert name, dist_info
        assert version, dist_info
        found[canonical(name.group(1))] = version.group(1).strip()
    return found


def locked_versions(app: Path) -> dict[str, str]:
    """name -> version of every package the fixture's lock holds (dev ones included)."""
    if (app / "Pipfile.lock").is_file():
        lock = json.loads((app / "Pipfile.lock").read_text())
        return {canonical(name): entry["version"].lstrip("=")
                for section in ("default", "develop") for name, entry in lock[section].items()}
    for name, key in (("uv.lock", "package"), ("poetry.lock", "package"), ("pylock.toml", "packages")):
        if (app / name).is_file():
            packages = tomllib.loads((app / name).read_text())[key]
            return {canonical(package["name"]): package["version"] for package in packages
                    if "version" in package and package.get("source", {}).get("editable") != "."}
    raise AssertionError(f"{app} has no lock")


def build(mirror: RuntimeMirror, app: Path, cache: Path, **env: str) -> Result:
    return compile_app(mirror.url, app, cache, SMOKE_CHECK="0", **env)


@pytest.mark.parametrize("fixture", list(MANAGER_LINES))
def test_a_locked_app_installs_exactly_its_lock_and_serves(mirror: RuntimeMirror, tmp_path: Path,
                                                           fixture: str) -> None:
    app = copy_fixture(fixture, tmp_path / "app")
    result = build(mirror, app, tmp_path / "cache")
    assert result.returncode == 0, result.output
    assert MANAGER_LINES[fixture] in result.output
    assert re.search(rf"Dependencies +{re.escape(DESCRIBED[fixture])}\n", result.output), result.output
    installed = installed_distributions(app)
    installed.pop("pip")
    if fixture in PROJECTS:  # the project itself, installed editable
        name, version = PROJECTS[fixture]
        assert installed.pop(name) == version
    if fixture == "pyproject-app":  # no lock: what pip resolved, with the exact pins of the project
        assert (installed["flask"], installed["gunicorn"]) == ("3.1.3", "23.0.0")
    else:
        locked = locked_versions(app)
        assert "pytest" in locked, "the fixture's lock must hold its dev group"
        assert installed == {name: version for name, version in locked.items() if name not in DEV_ONLY}
    assert not DEV_ONLY & set(installed)
    assert "Using the app's own gunicorn" in result.output  # gunicorn is locked: not added
    moved = move_slug(app, tmp_path / "moved")
    with start_slug(moved, web_command(moved), tmp_path / "app.log") as running:
        status, body = wait_for_http(running, "/")
        assert status == 200, body
        assert "Flask" in body or "Hello" in body
        assert stop_with_sigterm(running) < 10


def test_an_unchanged_lock_restores_and_a_changed_pin_updates_in_place(mirror: RuntimeMirror,
                                                                        tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = copy_fixture("pipenv-app", tmp_path / "one")
    assert build(mirror, first, cache).returncode == 0
    again = copy_fixture("pipenv-app", tmp_path / "two")
    restored = build(mirror, again, cache)
    assert "Restored Python and dependencies from the cache: install inputs unchanged" in restored.output
    # The same lock with one version moved (packaging 26.4 -> 26.3; gunicorn asks for any),
    # with the hashes of the files PyPI serves for it.
    changed = copy_fixture("pipenv-app", tmp_path / "three")
    lock = json.loads((changed / "Pipfile.lock").read_text())
    lock["default"]["packaging"] = {
        "hashes": ["sha256:d7193f7c8e4e93f444fde0262bf90af30e16fa0ad0ad44cb553c87339b23cd1c",
                   "sha256:94edc256424af38762eb31306eed28beb9f0efc50a8837492c9d6fd6004aed79"],
        "markers": "python_version >= '3.8'", "version": "==26.3"}
    (changed / "Pipfile.lock").write_text(json.dumps(lock, indent=4))
    updated = build(mirror, changed, cache)
    assert updated.returncode == 0, updated.output
    assert "Updating the cached dependencies in place: the lock or pyproject.toml changed" in updated.output
    assert installed_distributions(changed)["packaging"] == "26.3"


def lock_again(app: Path, *arguments: str) -> None:
    """`uv lock` with the real uv (the one in the test environment), on Python 3.12."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(app.parent), "UV_NO_CONFIG": "1",
           "UV_CACHE_DIR": str(app.parent / "uv-cache"), "UV_PYTHON_DOWNLOADS": "never", "UV_SYSTEM_CERTS": "1"}
    python = pyenv_prefix("3.12.1") / "bin" / "python3.12"
    subprocess.run([str(Path(sys.executable).parent / "uv"), "lock", "--python", str(python), *arguments],
                   cwd=app, env=env, check=True, capture_output=True)


def test_a_locked_package_app_updates_in_place_and_reinstalls_itself_only_when_changed(
        mirror: RuntimeMirror, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert build(mirror, copy_fixture("uv-app", tmp_path / "one"), cache).returncode == 0
    # Only uv.lock moves (packaging 26.4 -> 26.3): the project, as installed, is kept.
    relocked = copy_fixture("uv-app", tmp_path / "two")
    lock_again(relocked, "--upgrade-package", "packaging==26.3")
    updated = build(mirror, relocked, cache)
    assert updated.returncode == 0, updated.output
    assert "Updating the cached dependencies in place: the lock or pyproject.toml changed\n" in updated.output
    assert "The project itself is unchanged since the cached install: kept as installed" in updated.output
    assert installed_distributions(relocked)["packaging"] == "26.3"
    # pyproject.toml pins packaging and the lock follows: still in place, and the
    # project is installed again, so its metadata names the new dependency.
    pinned = copy_fixture("uv-app", tmp_path / "three")
    pyproject = pinned / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"gunicorn==23.0.0",', '"gunicorn==23.0.0", "packaging==26.3",'))
    lock_again(pinned)
    repinned = build(mirror, pinned, cache)
    assert repinned.returncode == 0, repinned.output
    assert "Updating the cached dependencies in place" in repinned.output
    assert "Installing the project itself (editable" in repinned.output
    metadata = next(pinned.glob(".lean/python/lib/python3.12/site-packages/uv_app-*.dist-info/METADATA"))
    assert "Requires-Dist: packaging==26.3" in metadata.read_text()
    assert installed_distributions(pinned) == installed_distributions(relocked)


def stale(app: Path, fixture: str) -> None:
    """Change what the lock was made from, without locking again."""
    if fixture == "pipenv-app":
        pipfile = app / "Pipfile"
        pipfile.write_text(pipfile.read_text().replace("[packages]\n", '[packages]\nsix = "==1.17.0"\n'))
    else:
        pyproject = app / "pyproject.toml"
        pyproject.write_text(pyproject.read_text().replace('dependencies = [\n', 'dependencies = [\n    "six",\n', 1))


@pytest.mark.parametrize(("fixture", "command"),
                         [("uv-app", "uv lock"), ("poetry-app", "poetry lock"), ("pipenv-app", "pipenv lock")])
def test_a_stale_lock_is_an_error(mirror: RuntimeMirror, tmp_path: Path, fixture: str, command: str) -> None:
    app = copy_fixture(fixture, tmp_path / "app")
    stale(app, fixture)
    cache = tmp_path / "cache"
    result = build(mirror, app, cache)
    assert_user_error(result, "lock::out-of-date", f"Run `{command}`")
    layers = cache / "python-buildpack" / "layers" / "install"
    assert not layers.exists() or not any(layers.iterdir()), "a failed build left an install layer"


def test_a_hash_the_index_does_not_serve(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("pipenv-app", tmp_path / "app")
    lock = json.loads((app / "Pipfile.lock").read_text())
    lock["default"]["flask"]["hashes"] = ["sha256:" + "0" * 64]
    (app / "Pipfile.lock").write_text(json.dumps(lock))
    cache = tmp_path / "cache"
    result = build(mirror, app, cache)
    assert_user_error(result, "pip::hash-mismatch", "does not match the hashes in the lock", "flask")
    layers = cache / "python-buildpack" / "layers" / "install"
    assert not layers.exists() or not any(layers.iterdir()), "a failed build left an install layer"


def test_a_locked_package_that_does_not_exist(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("pipenv-app", tmp_path / "app")
    lock = json.loads((app / "Pipfile.lock").read_text())
    lock["default"]["leanengine-no-such-package-4711"] = {"hashes": ["sha256:" + "1" * 64], "version": "==1.0.0"}
    (app / "Pipfile.lock").write_text(json.dumps(lock))
    result = build(mirror, app, tmp_path / "cache")
    assert_user_error(result, "pip::no-such-package", "leanengine-no-such-package-4711")


def test_a_requirements_export_beside_the_lock(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("uv-app", tmp_path / "app")
    pins = {name: version for name, version in locked_versions(app).items() if name not in DEV_ONLY}
    (app / "requirements.txt").write_text("".join(f"{name}=={version}\n" for name, version in pins.items()))
    kept = build(mirror, app, tmp_path / "cache")
    assert kept.returncode == 0, kept.output
    assert "requirements.txt pins exactly what uv.lock pins (it is its export)" in kept.output
    (app / "requirements.txt").write_text("flask==3.0.0\n")
    differ = build(mirror, app, tmp_path / "cache")
    assert_user_error(differ, "lock::requirements-differ", "flask: requirements.txt 3.0.0, uv.lock 3.1.3")


def test_invalid_toml_names_the_line(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("uv-app", tmp_path / "app")
    (app / "pyproject.toml").write_text('[project]\nname = "uv-app"\nversion = 0.1.0"\n')
    assert_user_error(build(mirror, app, tmp_path / "cache"), "manifest::syntax", "pyproject.toml line 3")


def test_a_lock_its_tool_cannot_read(mirror: RuntimeMirror, tmp_path: Path) -> None:
    app = copy_fixture("uv-app", tmp_path / "app")
    (app / "uv.lock").write_text('version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = 3\n')
    result = build(mirror, app, tmp_path / "cache")
    assert_user_error(result, "lock::unusable", "uv could not read uv.lock", "Failed to parse `uv.lock`")


@pytest.mark.parametrize(("files", "code", "phrase"), [
    ({"poetry.lock": "", "requirements.txt": "flask\n"}, "manifest::several-managers",
     "Found uv.lock, poetry.lock, requirements.txt"),
    ({"Pipfile": "[packages]\nflask = '*'\n"}, "manifest::pipfile-without-lock", "Run `pipenv lock`"),
])
def test_ambiguous_or_incomplete_manifests(mirror: RuntimeMirror, tmp_path: Path, files: dict[str, str],
                                           code: str, phrase: str) -> None:
    app = copy_fixture("uv-app" if "poetry.lock" in files else "flask-app", tmp_path / "app")
    (app / "requirements.txt").unlink(missing_ok=True)
    for name, content in files.items():
        (app / name).write_text(content)
    cache = tmp_path / "cache"
    assert_user_error(build(mirror, app, cache), code, phrase)
    assert not (cache / "python-buildpack" / "layers").exists()


def test_a_locked_package_app_restores_in_another_build_directory(mirror: RuntimeMirror, tmp_path: Path) -> None:
    """The project itself is part of the install key: by its metadata and top-level names,
    never by the name of the directory it is built in (platforms build in a new one each time)."""
    cache = tmp_path / "cache"
    assert build(mirror, copy_fixture("uv-app", tmp_path / "one"), cache).returncode == 0
    again = copy_fixture("uv-app", tmp_path / "two")
    restored = build(mirror, again, cache)
    assert "Restored Python and dependencies from the cache: install inputs unchanged" in restored.output
    moved = move_slug(again, tmp_path / "moved")
    with start_slug(moved, web_command(moved), tmp_path / "app.log") as running:
        status, body = wait_for_http(running, "/")
        assert (status, body) == (200, "Hello from Flask (uv-app) on Python 3.12\n")
        stop_with_sigterm(running)
