"""Local projects in requirements.txt (`-e ./packages/x`): built, moved and
served, then restored from the cache into another build directory and served.

Every layout pip and uv write is covered: setuptools' finder modules (pip and
uv on 3.12, from a pyproject.toml and from a setup.py project), and
`setup.py develop`'s `.egg-link` with `easy-install.pth` on Python 2.7.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import (
    Result,
    RuntimeMirror,
    compile_app,
    copy_fixture,
    move_slug,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)
from python_buildpack.cache import linked_trees

pytestmark = pytest.mark.integration
GREETINGS = "hello from pyproject hello from setup.py\n"
RESTORED = "Restored Python and dependencies from the cache: install inputs unchanged"


@pytest.fixture
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("2.7.18", "3.12.1")
    return runtime_mirror


def build_copy(mirror: RuntimeMirror, source: Path, where: Path, cache: Path, **env: str
               ) -> tuple[Path, Result]:
    app = where / "build"
    shutil.copytree(source, app, symlinks=True)
    result = compile_app(mirror.url, app, cache, SMOKE_CHECK="always", **env)
    assert result.returncode == 0, result.output
    return app, result


def serves_after_a_move(slug: Path, to: Path, log: Path) -> None:
    moved = move_slug(slug, to)
    with start_slug(moved, web_command(moved), log) as app:
        assert wait_for_http(app, "/") == (200, GREETINGS)
        assert wait_for_http(app, "/versions") == (200, "0.1.0 0.1.0\n")
        stop_with_sigterm(app)


def python27_variant(source: Path) -> Path:
    """The same app for Python 2.7, where both projects need a setup.py
    (pip 20.3 installs them with `setup.py develop`)."""
    project = source / "packages" / "greeting_pyproject"
    (project / "pyproject.toml").unlink()
    (project / "setup.py").write_text(
        'from setuptools import setup\n\nsetup(name="greeting-pyproject", version="0.1.0",'
        ' packages=["greeting_pyproject"])\n')
    (source / ".python-version").write_text("2.7\n")
    requirements = source / "requirements.txt"
    requirements.write_text(requirements.read_text().replace("Flask>=2,<4", "Flask<2"))
    return source


@pytest.mark.parametrize(("python", "installer"), [("3.12", "pip"), ("3.12", "uv"), ("2.7", "pip")])
def test_editable_local_projects_survive_a_move_and_a_restore_elsewhere(
    mirror: RuntimeMirror, tmp_path: Path, python: str, installer: str
) -> None:
    source = copy_fixture("editable-local-app", tmp_path / "src")
    if python == "2.7":
        python27_variant(source)
    cache = tmp_path / "cache"
    slug, first = build_copy(mirror, source, tmp_path / "one", cache, PYTHON_INSTALLER=installer)
    assert "Editable installs kept editable, their paths made relative" in first.output
    serves_after_a_move(slug, tmp_path / "moved-one", tmp_path / "one.log")

    again, second = build_copy(mirror, source, tmp_path / "two", cache, PYTHON_INSTALLER=installer)
    assert RESTORED in second.output
    assert "passed: GET / 200" in second.output
    serves_after_a_move(again, tmp_path / "moved-two", tmp_path / "two.log")


def test_a_new_top_level_module_in_an_editable_project_reinstalls(
    mirror: RuntimeMirror, tmp_path: Path
) -> None:
    source = copy_fixture("editable-local-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build_copy(mirror, source, tmp_path / "one", cache)
    (source / "packages" / "greeting_setuppy" / "greeting_setuppy" / "__init__.py").write_text(
        'def hello():\n    return "hello from setup.py"\n# an edit of the code: read live\n')
    _, edited = build_copy(mirror, source, tmp_path / "two", cache)
    assert RESTORED in edited.output
    (source / "packages" / "greeting_setuppy" / "extra_module.py").write_text("VALUE = 1\n")
    _, grown = build_copy(mirror, source, tmp_path / "three", cache)
    assert "Installing dependencies: local projects that the requirements install changed" \
        in grown.output


def test_a_cached_layer_naming_its_build_directory_is_refused_not_restored_broken(
    mirror: RuntimeMirror, tmp_path: Path
) -> None:
    source = copy_fixture("editable-local-app", tmp_path / "src")
    cache = tmp_path / "cache"
    build_copy(mirror, source, tmp_path / "one", cache)
    # A fake, said so: no installer we know writes a pointer we cannot make
    # relative, so one is planted in the cached layer (an `import` line of a
    # .pth file naming the old build directory, as an unknown backend might).
    [layer] = (cache / "python-buildpack" / "layers" / "install").iterdir()
    [site_packages] = layer.glob("python/lib/python3.12/site-packages")
    (site_packages / "unknown_backend.pth").write_text(
        f"import sys; sys.path.append('{tmp_path / 'one' / 'build' / 'packages'}')\n")
    # As if the installer had written it: the layer's record of its files includes it
    # (else the restore refuses the layer as changed, before this check is reached).
    linked_trees.write_manifest(layer / "python", layer / linked_trees.MANIFEST)
    again, result = build_copy(mirror, source, tmp_path / "two", cache)
    assert "Discarding the cached install layer: it was built in" in result.output
    assert "unknown_backend.pth in its site-packages still point there" in result.output
    assert RESTORED not in result.output
    assert "passed: GET / 200" in result.output
    assert not list(again.glob(".lean/python/lib/python3.12/site-packages/unknown_backend.pth"))
