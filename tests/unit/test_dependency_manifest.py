"""Which file says what to install, the Python the project and its lock declare,
and the errors for ambiguous, incomplete or broken manifests."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.analysis import app_source, dependency_manifest, version_policy
from python_buildpack.analysis.dependency_manifest import DependencyManifest
from python_buildpack.reporting import errors

MIRROR = ["3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1", "3.13.0", "3.14.0rc1"]
PROJECT = '[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.11,<3.13"\ndependencies = ["flask"]\n'


def app(tmp_path: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return tmp_path


def code_of(action: object) -> str:
    with pytest.raises(errors.BuildpackError) as raised:
        action()  # type: ignore[operator]
    return raised.value.code


@pytest.mark.parametrize(
    ("files", "manager", "lock"),
    [
        ({"requirements.txt": "flask\n"}, "requirements", None),
        ({"requirements.txt": "flask\n", "pyproject.toml": "[tool.ruff]\n"}, "requirements", None),
        ({"uv.lock": 'version = 1\nrequires-python = ">=3.11"\n', "pyproject.toml": PROJECT}, "uv", "uv.lock"),
        ({"poetry.lock": "[metadata]\n", "pyproject.toml": PROJECT}, "poetry", "poetry.lock"),
        ({"Pipfile.lock": '{"_meta": {}}', "Pipfile": "[packages]\n"}, "pipenv", "Pipfile.lock"),
        ({"pylock.toml": 'lock-version = "1.0"\npackages = []\n'}, "pylock", "pylock.toml"),
        ({"pyproject.toml": PROJECT}, "pyproject", None),
        ({}, "none", None),
    ],
)
def test_the_manager_is_found(tmp_path: Path, files: dict[str, str], manager: str, lock: str | None) -> None:
    found = dependency_manifest.find_manifest(app(tmp_path, files))
    assert (found.manager, found.lock) == (manager, lock)


def test_detection_takes_any_manifest_beside_an_entry_point(tmp_path: Path) -> None:
    app(tmp_path, {"wsgi.py": "application = None\n"})
    assert not app_source.is_python_app(tmp_path)
    for name in ("pyproject.toml", "uv.lock", "poetry.lock", "Pipfile", "Pipfile.lock", "pylock.toml"):
        (tmp_path / name).write_text("")
        assert app_source.is_python_app(tmp_path), name
        (tmp_path / name).unlink()
    (tmp_path / "requirements.txt").write_text("flask\n")  # the platform's own rule, unchanged
    assert app_source.is_python_app(tmp_path)


def test_a_run_command_is_an_entry_point(tmp_path: Path) -> None:
    app(tmp_path, {"leanengine.yaml": "run: python app.py\n", "pyproject.toml": PROJECT})
    assert app_source.is_python_app(tmp_path)
    (tmp_path / "pyproject.toml").unlink()
    assert not app_source.is_python_app(tmp_path)


def test_a_requirements_export_beside_a_lock_is_kept_for_checking(tmp_path: Path) -> None:
    found = dependency_manifest.find_manifest(
        app(tmp_path, {"uv.lock": "version = 1\n", "pyproject.toml": PROJECT, "requirements.txt": "flask==3\n"})
    )
    assert found.manager == "uv"
    assert found.beside_requirements
    assert found.files == ("uv.lock", "pyproject.toml")


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"uv.lock": "", "poetry.lock": "", "pyproject.toml": PROJECT}, "manifest::several-managers"),
        ({"Pipfile.lock": "{}", "pylock.toml": "", "requirements.txt": ""}, "manifest::several-managers"),
        ({"Pipfile": "[packages]\n"}, "manifest::pipfile-without-lock"),
        ({"uv.lock": "version = 1\n"}, "manifest::lock-without-declaration"),
        ({"Pipfile.lock": "{}"}, "manifest::lock-without-declaration"),
        ({"pyproject.toml": "[tool.ruff]\nline-length = 100\n"}, "manifest::no-project"),
        ({"pyproject.toml": '[project]\nname = "x"\nversion = \n'}, "manifest::syntax"),
        ({"pyproject.toml": b"\xff\xfe\x00binary"}, "manifest::unreadable"),
        ({"pyproject.toml": "[project]\nrequires-python = \"3.11 or newer\"\n"}, "manifest::bad-python"),
        ({"pyproject.toml": "x = " + "[" * 5000 + "]" * 5000 + "\n"}, "manifest::syntax"),
        ({"Pipfile": "", "Pipfile.lock": '{"_meta": '}, "manifest::syntax"),
    ],
)
def test_bad_manifests(tmp_path: Path, files: dict[str, str | bytes], code: str) -> None:
    assert code_of(lambda: dependency_manifest.find_manifest(app(tmp_path, files))) == code


def test_a_toml_error_names_the_line(tmp_path: Path) -> None:
    app(tmp_path, {"pyproject.toml": '[project]\nname = "x"\nversion = \n'})
    with pytest.raises(errors.BuildpackError) as raised:
        dependency_manifest.find_manifest(tmp_path)
    assert raised.value.detail.startswith("pyproject.toml line 3:")


def test_a_lock_linking_out_of_the_app(tmp_path: Path) -> None:
    outside = tmp_path / "outside.lock"
    outside.write_text("version = 1\n")
    (tmp_path / "app").mkdir()
    app(tmp_path / "app", {"pyproject.toml": PROJECT})
    (tmp_path / "app" / "uv.lock").symlink_to(outside)
    assert code_of(lambda: dependency_manifest.find_manifest(tmp_path / "app")) == "app::unsafe-file"


def test_python_declared_by_the_project_and_the_locks(tmp_path: Path) -> None:
    uv = dependency_manifest.find_manifest(
        app(tmp_path, {"uv.lock": 'requires-python = ">=3.10"\n', "pyproject.toml": PROJECT})
    )
    assert (uv.project_python, uv.lock_python) == (">=3.11,<3.13", ">=3.10")
    (tmp_path / "uv.lock").unlink()
    (tmp_path / "poetry.lock").write_text('[metadata]\npython-versions = "^3.11"\n')
    assert dependency_manifest.find_manifest(tmp_path).lock_python == ">=3.11.0,<4"
    (tmp_path / "poetry.lock").unlink()
    (tmp_path / "pyproject.toml").unlink()
    app(tmp_path, {"Pipfile": "", "Pipfile.lock": '{"_meta": {"requires": {"python_version": "3.12"}}}'})
    assert dependency_manifest.find_manifest(tmp_path).lock_python == "==3.12.*"


def choose(manifest: DependencyManifest, version_file: bytes | None = None, default: str | None = None) -> str:
    return version_policy.choose(version_policy.VersionInputs(version_file, None, default, None, MIRROR, manifest)).version


def test_requires_python_picks_the_newest_satisfying_version() -> None:
    assert choose(DependencyManifest("pyproject", project_python=">=3.11,<3.13")) == "3.12.1"
    assert choose(DependencyManifest("pyproject", project_python=">=3.11")) == "3.13.0"  # never a pre-release
    # It wins over the platform's default; .python-version wins over it.
    assert choose(DependencyManifest("pyproject", project_python="<3.12"), default="3.12") == "3.11.7"
    assert choose(DependencyManifest("pyproject", project_python=">=3.8"), version_file=b"3.9\n") == "3.9.18"


def test_the_lock_python_is_a_source_and_a_check() -> None:
    pipenv = DependencyManifest("pipenv", lock="Pipfile.lock", lock_python="==3.11.*")
    assert choose(pipenv) == "3.11.7"
    assert code_of(lambda: choose(pipenv, version_file=b"3.12\n")) == "lock::python-mismatch"


def test_a_version_file_outside_requires_python() -> None:
    manifest = DependencyManifest("uv", lock="uv.lock", project_python=">=3.11")
    assert code_of(lambda: choose(manifest, version_file=b"3.10\n")) == "python-version::outside-requires-python"
    assert code_of(lambda: choose(DependencyManifest("pyproject", project_python=">=3.15"))) == (
        "python-version::not-available"
    )
