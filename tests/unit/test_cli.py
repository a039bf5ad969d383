"""The CLI's last line of defence: an unexpected exception becomes an
internal-error block with the traceback, exit 1; and bin/release's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from python_buildpack import cli


def test_an_unexpected_exception_is_reported_as_a_bug(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # A stand-in for a bug: no real input is known to raise one (they are fixed).
    def broken(args: list[str]) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "compile", broken)
    assert cli.main(["compile", "app", "cache"]) == 1
    stderr = capsys.readouterr().err
    assert "Internal error: the buildpack failed unexpectedly" in stderr
    assert "This is a bug in the buildpack, not in your app." in stderr
    assert "bin/report BUILD_DIR" in stderr
    assert "ZeroDivisionError: a bug" in stderr
    assert "Traceback (most recent call last)" in stderr


def test_usage_errors_exit_2_without_a_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2
    assert "[cli::usage]" in capsys.readouterr().err


def test_release_refuses_after_a_failed_build_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["release", str(tmp_path)]) == 0  # never compiled: the default, as before
    assert "web: gunicorn" in capsys.readouterr().out
    report = tmp_path / ".lean" / "build-report.json"
    report.parent.mkdir()
    report.write_text(json.dumps({"outcome": "failed", "failure_code": "pip::no-such-package"}))
    assert cli.main(["release", str(tmp_path)]) == 1
    printed = capsys.readouterr()
    assert printed.out == ""
    assert "[release::build-failed]" in printed.err
    assert "failed with [pip::no-such-package]" in printed.err
    report.write_text(json.dumps({"outcome": "succeeded", "failure_code": None}))
    assert cli.main(["release", str(tmp_path)]) == 0
    assert "web: gunicorn" in capsys.readouterr().out


def test_the_cache_dir_error_names_the_path_and_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "file").write_text("")
    assert cli.main(["compile", str(tmp_path / "app"), str(tmp_path / "file" / "cache")]) == 1
    stderr = capsys.readouterr().err
    assert "[cli::cache-dir-unwritable]" in stderr
    assert f'"{tmp_path}/file/cache": Not a directory' in stderr
