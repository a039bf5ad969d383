"""Reading the last build's outcome back, for bin/release."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from python_buildpack.reporting import build_report


@pytest.mark.parametrize(
    ("content", "failure"),
    [
        (None, None),  # never compiled: bin/release works as it always did
        ("", None),
        ("not json {", None),
        ("[1, 2]", None),
        (json.dumps({"outcome": "succeeded", "failure_code": None}), None),
        (json.dumps({"outcome": "failed", "failure_code": "python-version::invalid"}),
         "python-version::invalid"),
        (json.dumps({"outcome": "failed", "failure_code": "internal-error"}), "internal-error"),
        (json.dumps({"outcome": "failed"}), "unknown"),
    ],
)
def test_last_failure(tmp_path: Path, content: str | None, failure: str | None) -> None:
    if content is not None:
        (tmp_path / ".lean").mkdir()
        (tmp_path / build_report.REPORT_FILE).write_text(content)
    assert build_report.last_failure(tmp_path) == failure


def test_a_report_that_is_a_directory_counts_as_none(tmp_path: Path) -> None:
    (tmp_path / build_report.REPORT_FILE).mkdir(parents=True)
    assert build_report.last_failure(tmp_path) is None
