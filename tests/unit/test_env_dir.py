from __future__ import annotations

from python_buildpack.env_dir import parse_entries


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
