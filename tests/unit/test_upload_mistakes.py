"""Upload mistakes caught before the build: version files under a wrong name,
committed virtual environments, and what the app declares for the version policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from python_buildpack.analysis import committed_environments, declared_packages, version_files
from python_buildpack.analysis.dependency_manifest import DependencyManifest
from python_buildpack.cache import python_line
from python_buildpack.reporting.errors import BuildpackError

MISSPELLED_VERSION_FILES = [
    "python-version", ".python_version", ".pythonversion", ".python-version.txt", ".python-version ",
    " .python-version", ".Python-Version", ".PYTHON-VERSION", ".python-versions", ".python.version",
    "python_version.txt", ".pyhton-version", ".python-verison", ".python-vesion", ".pythn-version",
    "python-version.txt", ".python-version.text", ".python version",
]
MISSPELLED_RUNTIME_TXT = [
    "runtime", "Runtime.txt", "RUNTIME.TXT", "runtime.text", "runtime.txt.txt", "runtimes.txt",
    ".runtime.txt", "runtime.txt ", "runtime_txt", "runtme.txt", "runtim.txt", "rutnime.txt",
]


def upload(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    return tmp_path


def refusal(app: Path) -> BuildpackError:
    with pytest.raises(BuildpackError) as caught:
        version_files.check_version_file_names(app)
    return caught.value


@pytest.mark.parametrize("name", MISSPELLED_VERSION_FILES)
def test_misspelled_python_version_files_are_errors(tmp_path: Path, name: str) -> None:
    error = refusal(upload(tmp_path, {name: "3.12\n"}))
    assert error.code == "python-version::misspelled-file"
    assert error.title.endswith("the name should be .python-version")
    assert ".python-version" in error.hint


@pytest.mark.parametrize("name", MISSPELLED_RUNTIME_TXT)
def test_misspelled_runtime_txt_files_are_errors(tmp_path: Path, name: str) -> None:
    error = refusal(upload(tmp_path, {name: "python-3.12.1\n"}))
    assert error.title.endswith("the name should be runtime.txt")


def test_a_trailing_space_is_shown_and_quoted_in_the_fix(tmp_path: Path) -> None:
    error = refusal(upload(tmp_path, {".python-version ": "3.12\n"}))
    assert '".python-version "' in error.title
    assert "git mv '.python-version ' .python-version" in error.hint


@pytest.mark.parametrize(
    "files",
    [
        {".python-version": "3.12\n", "python-version": "3.11\n"},  # the right file is there: it wins
        {"runtime.txt": "python-3.12.1", "Runtime.txt": "python-3.11.6"},
        {".python-version": "3.12\n", "runtime": "python-3.11.6"},  # .python-version wins over both
        {"runtime.py": "print('a module of the app')\n"},
        {"runtime": "#!/bin/sh\nexec ./serve\n"},  # an app's own script: no version in it
        {"version.txt": "3.12\n"},
        {"python.txt": "3.12\n"},
        {"routine.txt": "3.12\n"},
        {"requirements.txt": "flask\n"},
    ],
)
def test_names_left_alone(tmp_path: Path, files: dict[str, str]) -> None:
    version_files.check_version_file_names(upload(tmp_path, files))


def test_a_misspelled_directory_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "python-version").mkdir()
    version_files.check_version_file_names(tmp_path)


@pytest.mark.parametrize(("first", "second", "distance"),
                         [("runtime", "runtime", 0), ("runtme", "runtime", 1), ("rutnime", "runtime", 1),
                          ("routine", "runtime", 3), ("", "abc", 3)])
def test_typo_distance(first: str, second: str, distance: int) -> None:
    assert version_files.typo_distance(first, second) == distance


# --- committed environments --------------------------------------------------------------------


def test_committed_environments_are_found_and_measured(tmp_path: Path) -> None:
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to("/usr/bin/python3")
    (tmp_path / "venv" / "big").write_bytes(b"x" * 5000)
    (tmp_path / ".venv").mkdir()
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / ".lean").mkdir()
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "pyvenv.cfg.txt").write_text("no")
    found = committed_environments.find(tmp_path)
    assert [(item.path, item.kind) for item in found] == [
        ("venv", "virtual environment"), ("env", "virtual environment"),
        (".lean", "slug directory"), (".venv", "virtual environment")]
    assert found[0].size_bytes >= 5000


# --- what the app declares ---------------------------------------------------------------------


def declared(tmp_path: Path, manifest: DependencyManifest, files: dict[str, str]) -> dict[str, object]:
    found = declared_packages.declared_packages(upload(tmp_path, files), manifest)
    return {name: (str(item.allowed), str(item.locked) if item.locked else None) for name, item in found.items()}


def test_declared_by_requirements(tmp_path: Path) -> None:
    files = {"requirements.txt": "LeanCloud>=2.9.1,<4\n-r more.txt\nnot valid (\n", "more.txt": "gevent==22.10.2\n"}
    assert declared(tmp_path, DependencyManifest("requirements"), files) == {
        "leancloud": ("<4,>=2.9.1", None), "gevent": ("==22.10.2", None)}


def test_declared_by_pyproject(tmp_path: Path) -> None:
    files = {"pyproject.toml": '[project]\nname = "a"\ndependencies = ["leancloud<4"]\n'
             '[tool.poetry.dependencies]\npython = "^3.11"\ngevent = "^22.10"\nflask = {version = "<2"}\n'}
    assert declared(tmp_path, DependencyManifest("pyproject"), files) == {
        "leancloud": ("<4", None), "gevent": ("", None), "flask": ("<2", None)}


@pytest.mark.parametrize(
    ("lock", "manager", "content"),
    [
        ("uv.lock", "uv", '[[package]]\nname = "gevent"\nversion = "22.10.2"\n'),
        ("poetry.lock", "poetry", '[[package]]\nname = "gevent"\nversion = "22.10.2"\n'),
        ("pylock.toml", "pylock", '[[packages]]\nname = "gevent"\nversion = "22.10.2"\n'),
        ("Pipfile.lock", "pipenv", '{"default": {"gevent": {"version": "==22.10.2"}}}'),
    ],
)
def test_declared_by_a_lock(tmp_path: Path, lock: str, manager: str, content: str) -> None:
    found = declared_packages.declared_packages(upload(tmp_path, {lock: content}),
                                                DependencyManifest(manager, lock=lock))
    assert found["gevent"].locked == Version("22.10.2")
    assert found["gevent"].allowed == SpecifierSet()


# --- the previous build's line -----------------------------------------------------------------


def test_the_line_is_remembered_and_anything_else_ignored(tmp_path: Path) -> None:
    assert python_line.remembered_line(tmp_path) is None
    python_line.remember_line(tmp_path, "3.12.1")
    assert python_line.remembered_line(tmp_path) == "3.12"
    for content in ("not json", '{"line": "../3"}', '["3.12"]', '{"line": 3.12}'):
        (tmp_path / python_line.FILE_NAME).write_text(content)
        assert python_line.remembered_line(tmp_path) is None
