"""Which requirement lines name a project inside the app, and what of it keys the install layer."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.analysis.local_projects import (
    LocalProject,
    find_local_projects,
    local_target,
    project_digest,
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("-e ./packages/a", ("./packages/a", True)),
        ("-e./packages/a", ("./packages/a", True)),
        ("--editable ./packages/a", ("./packages/a", True)),
        ("--editable=packages/a", ("packages/a", True)),
        ("--edit ./packages/a", ("./packages/a", True)),
        ("-e .", (".", True)),
        ("-e file:./packages/a#egg=a", ("./packages/a", True)),
        ("-e ./packages/a[extra]", ("./packages/a", True)),
        ("./packages/a", ("./packages/a", False)),
        ("packages/a", ("packages/a", False)),
        ("./dist/a-1.0.tar.gz", ("./dist/a-1.0.tar.gz", False)),
        ("a @ file:///srv/app/packages/a", ("/srv/app/packages/a", False)),
        ("./packages/a ; python_version >= '3.8'", ("./packages/a", False)),
        ("-e git+https://example.invalid/org/a.git#egg=a", None),
        ("git+https://example.invalid/org/a.git", None),
        ("a @ https://example.invalid/a-1.0.tar.gz", None),
        ("flask>=2", None),
        ("Flask[async]==3.0", None),
        ("--index-url https://example.invalid/simple", None),
        ("-c constraints.txt", None),
    ],
)
def test_local_target(line: str, expected: tuple[str, bool] | None) -> None:
    assert local_target(line) == expected


def _project(root: Path, name: str, *, setup: str = "setup()") -> Path:
    project = root / "packages" / name
    (project / name).mkdir(parents=True)
    (project / name / "__init__.py").write_text("VALUE = 1\n")
    (project / "setup.py").write_text(setup)
    return project


def test_find_local_projects_inside_the_app_only(tmp_path: Path) -> None:
    app = tmp_path / "app"
    one, two = _project(app, "one"), _project(app, "two")
    (tmp_path / "outside").mkdir()
    requirements = app / "requirements.txt"
    requirements.write_text("-e ./packages/one\n./packages/two\n-e ../outside\n./missing\nflask\n"
                            "-e ./packages/one\n")
    assert find_local_projects(app, [requirements]) == [LocalProject(one.resolve(), True),
                                                        LocalProject(two.resolve(), False)]


def test_an_editable_project_is_keyed_by_metadata_and_top_level_names_not_code(tmp_path: Path) -> None:
    project = LocalProject(_project(tmp_path, "one"), editable=True)
    before = project_digest(project, tmp_path)
    (project.path / "one" / "__init__.py").write_text("VALUE = 2\n")  # read live: no reinstall
    (project.path / "one.egg-info").mkdir()  # written by the install itself
    assert project_digest(project, tmp_path) == before
    (project.path / "setup.py").write_text("setup(install_requires=['six'])")
    changed_metadata = project_digest(project, tmp_path)
    assert changed_metadata != before
    (project.path / "two.py").write_text("")  # a new top-level module: the finder must learn it
    assert project_digest(project, tmp_path) != changed_metadata


def test_a_copied_project_is_keyed_by_every_file(tmp_path: Path) -> None:
    project = LocalProject(_project(tmp_path, "one"), editable=False)
    before = project_digest(project, tmp_path)
    (project.path / "one" / "__pycache__").mkdir()
    (project.path / "one" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert project_digest(project, tmp_path) == before
    (project.path / "one" / "__init__.py").write_text("VALUE = 2\n")
    assert project_digest(project, tmp_path) != before


def test_a_local_archive_is_keyed_by_its_bytes(tmp_path: Path) -> None:
    archive = tmp_path / "a-1.0.tar.gz"
    archive.write_bytes(b"one")
    before = project_digest(LocalProject(archive, editable=False), tmp_path)
    archive.write_bytes(b"two")
    assert project_digest(LocalProject(archive, editable=False), tmp_path) != before
