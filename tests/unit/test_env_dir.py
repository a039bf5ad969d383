from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.analysis.env_dir import parse_entries, read_env_dir
from python_buildpack.reporting import errors


def test_parse_entries_keeps_valid_and_skips_odd_names() -> None:
    variables, skipped = parse_entries([
        ("LEANCLOUD_APP_KEY", b"abc\n"),
        ("PIP_INDEX_URL", b"https://example.invalid/simple\n\n"),
        ("MULTI", b"line1\nline2\n"),
        ("bad name", b"x"),
        ("1STARTS_WITH_DIGIT", b"x"),
        ("NUL_VALUE", b"a\0b"),
        ("UNICODE", "值".encode()),
    ])
    assert variables == {
        "LEANCLOUD_APP_KEY": "abc",
        "PIP_INDEX_URL": "https://example.invalid/simple",
        "MULTI": "line1\nline2",
        "UNICODE": "值",
    }
    assert skipped == ["bad name", "1STARTS_WITH_DIGIT", "NUL_VALUE"]


def test_an_env_dir_that_cannot_be_listed_is_an_error(tmp_path: Path) -> None:
    # As root no permission stops a read; a path that is not a directory does.
    not_a_directory = tmp_path / "env"
    not_a_directory.write_text("X=1")
    with pytest.raises(errors.BuildpackError) as raised:
        read_env_dir(not_a_directory)
    assert raised.value.code == "env-dir::unreadable"
    assert "Not a directory" in raised.value.detail
