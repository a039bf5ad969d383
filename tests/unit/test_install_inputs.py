from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from python_buildpack.analysis.requirement_files import plain_requirements
from python_buildpack.install.install_inputs import InstallInputs, explain_changes
from python_buildpack.install.tool_versions import tools_for
from python_buildpack.support.file_snapshot import changed_files, snapshot

BASE = InstallInputs(
    buildpack="0.1.0/1", arch="x86_64", python="3.12.1", archive_sha256="a" * 64,
    python_version_file="v1", requirements="r1", install_steps="(UseDefault(),)", required_files="f1",
    tools="t1", system_dependencies="", web_server="default", exposed_env={"PIP_INDEX_URL": "h1"},
)


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({}, ["the cached dependencies are gone or unusable"]),
        ({"requirements": "r2"}, ["requirements.txt changed"]),
        ({"python": "3.12.3", "archive_sha256": "b" * 64, "tools": "t2"}, ["Python changed from 3.12.1 to 3.12.3"]),
        ({"python": "3.11.7", "python_version_file": "v2"},
         ["Python changed from 3.12.1 to 3.11.7", ".python-version changed"]),
        ({"archive_sha256": "c" * 64}, ["the Python runtime archive changed"]),
        ({"install_steps": "()"}, ["the install commands in leanengine.yaml changed"]),
        ({"required_files": "f2"}, ["files named by `require` changed"]),
        ({"tools": "t2"}, ["the pinned build tools changed"]),
        ({"buildpack": "0.2.0/1"}, ["the buildpack version changed"]),
        ({"arch": "aarch64"}, ["the machine architecture changed"]),
        ({"system_dependencies": "ffmpeg"}, ["systemDependencies changed"]),
        ({"web_server": "run"}, ["the web command changed between `run:` and the default server"]),
        ({"exposed_env": {"PIP_INDEX_URL": "h2", "MY_VAR": "x"}},
         ["environment variables for the install step changed: MY_VAR, PIP_INDEX_URL"]),
        ({"requirements": "r2", "required_files": "f2"}, ["requirements.txt changed", "files named by `require` changed"]),
    ],
)
def test_explain_changes(changes: dict[str, object], reasons: list[str]) -> None:
    current = dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]
    assert explain_changes(BASE.as_dict(), current) == reasons


def test_first_build_has_no_previous_inputs() -> None:
    assert explain_changes(None, BASE) == ["no cached dependencies yet"]


def test_digest_follows_every_input() -> None:
    assert BASE.digest() == dataclasses.replace(BASE).digest()
    assert BASE.digest() != dataclasses.replace(BASE, requirements="r2").digest()
    assert BASE.digest() != dataclasses.replace(BASE, exposed_env={}).digest()


def test_snapshot_finds_created_and_changed_files_but_not_skipped_ones(tmp_path: Path) -> None:
    (tmp_path / "kept.txt").write_text("same")
    (tmp_path / "changed.txt").write_text("before")
    (tmp_path / ".lean").mkdir()
    before = snapshot(tmp_path, skip=(".lean",))
    time.sleep(0.01)
    (tmp_path / "changed.txt").write_text("after, longer")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "new.bin").write_bytes(b"\x00")
    (tmp_path / ".lean" / "ignored").write_text("x")
    assert changed_files(before, tmp_path, skip=(".lean",)) == [tmp_path / "changed.txt",
                                                                 tmp_path / "models" / "new.bin"]


@pytest.mark.parametrize(
    ("version", "pip", "setuptools", "gunicorn"),
    [
        ("2.7.18", "20.3.4", "44.1.1", "19.10.0"),
        ("3.6.15", "21.3.1", "59.6.0", "21.2.0"),
        ("3.11.7", "23.2.1", "80.9.0", "23.0.0"),
        ("3.12.1", "23.2.1", None, "23.0.0"),
        ("3.14.0", "23.2.1", None, "23.0.0"),
    ],
)
def test_tools_per_line(version: str, pip: str, setuptools: str | None, gunicorn: str) -> None:
    tools = tools_for(version)
    assert (tools.pip, tools.setuptools, tools.gunicorn) == (pip, setuptools, gunicorn)


def test_companions_are_left_to_the_app_when_it_names_them() -> None:
    tools = tools_for("2.7.18")
    assert tools.companion_requirements(set()) == ["setuptools==44.1.1", "wheel==0.37.1"]
    assert tools.companion_requirements({"setuptools"}) == ["wheel==0.37.1"]
    assert tools.pip_is_too_old("19.2.3")
    assert not tools.pip_is_too_old("20.3.4")
    assert tools.pip_is_too_old(None)


@pytest.mark.parametrize(
    ("requirements", "plain"),
    [
        ("Flask>=2,<4\nsix==1.17.0\n", ["Flask>=2,<4", "six==1.17.0"]),
        ("# comment\n\nrequests[socks]  # trailing\n", ["requests[socks]"]),
        ("enum34; python_version < '3.4'\n", ["enum34; python_version < '3.4'"]),
        ("-r base.txt\nsix\n", ["six", "flask"]),
        ("./vendor/pkg\n", None),
        ("-e .\n", None),
        ("git+https://example.invalid/x.git#egg=x\n", None),
        ("pkg @ https://example.invalid/pkg.whl\n", None),
        ("--index-url https://example.invalid/simple\nsix\n", None),
        ("six \\\n  --hash=sha256:abc\n", None),
    ],
)
def test_plain_requirements(tmp_path: Path, requirements: str, plain: list[str] | None) -> None:
    (tmp_path / "requirements.txt").write_text(requirements)
    (tmp_path / "base.txt").write_text("flask\n")
    assert plain_requirements(tmp_path) == plain
