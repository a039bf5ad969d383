"""Where uv is not the default: requirement-file options uv does not read as pip does."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.install import installer_choice


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
