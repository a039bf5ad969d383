"""Where uv is not the default: requirement-file options uv does not read as pip does."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from python_buildpack.analysis.build_plan import BuildPlan
from python_buildpack.install import installer_choice
from python_buildpack.reporting import errors


@pytest.mark.parametrize("line", [
    "Flask>=2,<4", "-r base.txt", "-rbase.txt", "--requirement=base.txt", "-c constraints.txt",
    "-e ./packages/greeting", "--editable ./x", "-i https://example.com/simple",
    "--index-url=https://example.com/simple", "--extra-index-url https://example.com/simple",
    "--no-index", "-f ./wheels", "--find-links ./wheels", "--only-binary :all:", "--no-binary lxml",
    "--require-hashes", "flask==3.0.0 --hash=sha256:abc --hash=sha256:def",
    "pkg @ https://example.com/pkg-1.0-py3-none-any.whl", 'pkg; python_version >= "3.8"',
])
def test_lines_uv_reads_as_pip_does(line: str) -> None:
    assert installer_choice._unsupported_option(line) is None


@pytest.mark.parametrize(("line", "option"), [
    ("--pre", "--pre"), ("--trusted-host example.com", "--trusted-host"),
    ("--prefer-binary", "--prefer-binary"), ("--global-option=--quiet", "--global-option"),
    ("--install-option --prefix", "--install-option"), ("--no-build-isolation", "--no-build-isolation"),
    ("--use-pep517", "--use-pep517"), ("--config-settings a=b", "--config-settings"),
    ("--requirem base.txt", "--requirem"),  # pip's abbreviation: uv does not take it
    ("psycopg2 --global-option=build_ext", "--global-option"),
    ("lxml --config-settings=x=y", "--config-settings"), ("-Z", "-Z"),
])
def test_options_that_keep_pip(line: str, option: str) -> None:
    assert installer_choice._unsupported_option(line) == option


def test_the_reason_names_the_file_and_the_option(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# base\n-r base.txt\nFlask\n")
    (tmp_path / "base.txt").write_text("requests\n--pre\n")
    assert installer_choice.pip_only(tmp_path) == "base.txt uses `--pre`, which uv does not read as pip does"
    (tmp_path / "base.txt").write_text("requests\n")
    assert installer_choice.pip_only(tmp_path) is None


def plan(tmp_path: Path, version: str = "3.12.1", manager: str = "requirements",
         **env: str) -> BuildPlan:
    """The parts of a build plan the choice reads."""
    fields = {"app_dir": tmp_path, "host_env": {}, "app_env": env,
              "version": SimpleNamespace(version=version), "manifest": SimpleNamespace(manager=manager)}
    return cast(BuildPlan, SimpleNamespace(**fields))


@pytest.mark.parametrize(("version", "manager", "env", "chosen", "why", "said"), [
    ("3.12.1", "requirements", {}, "uv", "the default on Python 3.8 and later; PYTHON_INSTALLER=pip for pip", ""),
    ("3.8.18", "poetry", {}, "uv", "the default on Python 3.8 and later; PYTHON_INSTALLER=pip for pip", ""),
    ("3.12.1", "requirements", {"PYTHON_INSTALLER": "UV"}, "uv", "PYTHON_INSTALLER=uv", ""),
    ("3.12.1", "requirements", {"PYTHON_INSTALLER": "pip"}, "pip", "PYTHON_INSTALLER=pip", ""),
    ("3.12.1", "uv", {"PYTHON_INSTALLER": "pip"}, "pip", "PYTHON_INSTALLER=pip", ""),
    ("3.12.1", "uv", {}, "uv", "the default on Python 3.8 and later; PYTHON_INSTALLER=pip for pip", ""),
    ("3.12.1", "pylock", {"PYTHON_INSTALLER": "pip"}, "uv", "pip cannot read pylock.toml", ""),
    ("3.7.16", "requirements", {}, "pip", "uv does not support Python 3.7.16",
     "Installing with pip: uv does not support Python 3.7.16\n"),
    ("2.7.18", "requirements", {"PYTHON_INSTALLER": "uv"}, "pip", "uv does not support Python 2.7.18",
     "PYTHON_INSTALLER=uv: uv does not support Python 2.7.18; using pip\n"),
])
def test_the_installer_and_why(tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str, manager: str,
                               env: dict[str, str], chosen: str, why: str, said: str) -> None:
    (tmp_path / "requirements.txt").write_text("Flask\n")
    assert installer_choice.choose_installer(plan(tmp_path, version, manager, **env)) == \
        installer_choice.InstallerChoice(chosen, why)
    assert capsys.readouterr().out.replace(" " * 7, "") == said


def test_a_pip_only_option_keeps_pip_and_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("--pre\nFlask\n")
    choice = installer_choice.choose_installer(plan(tmp_path))
    assert choice.name == "pip"
    assert capsys.readouterr().out.strip() == \
        "Installing with pip: requirements.txt uses `--pre`, which uv does not read as pip does"
    # Asked for, uv installs it anyway (and warns about the option itself).
    assert installer_choice.choose_installer(plan(tmp_path, PYTHON_INSTALLER="uv")).name == "uv"


def test_an_unknown_installer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(errors.BuildpackError, match="PYTHON_INSTALLER is not"):
        installer_choice.choose_installer(plan(tmp_path, PYTHON_INSTALLER="conda"))
