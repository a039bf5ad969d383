from __future__ import annotations

import pytest
from python_buildpack import python_version
from python_buildpack.errors import BuildpackError

MIRROR = ["2.7.18", "3.6.15", "3.8.18", "3.11.7", "3.12.1", "3.13.0", "3.13.1rc1", "3.14.0a1"]


@pytest.mark.parametrize(
    ("content", "token", "others"),
    [
        (b"3.12\n", "3.12", []),
        (b"  3.12.1  \r\n", "3.12.1", []),
        (b"\xef\xbb\xbf3.11\n", "3.11", []),
        (b"# pinned\n\n3.10\n", "3.10", []),
        (b"3.12 3.11\n", "3.12", ["3.11"]),
        (b"3.12\n2.7\n", "3.12", ["2.7"]),
        (b"python-3.9", "python-3.9", []),
    ],
)
def test_parse_version_file(content: bytes, token: str, others: list[str]) -> None:
    assert python_version.parse_version_file(content) == (token, others)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "python-version::invalid"),
        (b"# nothing\n", "python-version::invalid"),
        (b"\xff\xfe3\x00.\x001\x00", "python-version::unreadable"),
        (b"3" * 5000, "python-version::unreadable"),
    ],
)
def test_parse_version_file_refuses(content: bytes, code: str) -> None:
    with pytest.raises(BuildpackError) as caught:
        python_version.parse_version_file(content)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("3.12", "3.12.1"),
        ("3.12.1", "3.12.1"),
        ("3", "3.13.0"),
        ("2", "2.7.18"),
        ("2.7", "2.7.18"),
        ("python-3.8", "3.8.18"),
        ("Python-3.11.7", "3.11.7"),
        ("3.13", "3.13.0"),
        ("3.13.1rc1", "3.13.1rc1"),
        ("3.14.0a1", "3.14.0a1"),
    ],
)
def test_resolve(text: str, resolved: str) -> None:
    request = python_version.parse_request(text, ".python-version")
    assert python_version.resolve(request, MIRROR) == resolved


def test_resolve_without_request_is_newest_stable() -> None:
    assert python_version.resolve(None, MIRROR) == "3.13.0"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("pypy3.10", "python-version::unsupported-implementation"),
        ("pypy3.10-7.3.12", "python-version::unsupported-implementation"),
        ("jython-2.7.2", "python-version::unsupported-implementation"),
        ("ironpython-3.4.0", "python-version::unsupported-implementation"),
        ("graalpy-23.0.0", "python-version::unsupported-implementation"),
        ("miniconda3-latest", "python-version::unsupported-implementation"),
        ("anaconda3-2023.03", "python-version::unsupported-implementation"),
        ("stackless-3.7.5", "python-version::unsupported-implementation"),
        ("system", "python-version::invalid"),
        ("latest", "python-version::invalid"),
        ("3.x", "python-version::invalid"),
        ("3.12.1.4", "python-version::invalid"),
        ("v3.12", "python-version::invalid"),
        (">=3.8", "python-version::invalid"),
    ],
)
def test_parse_request_refuses(text: str, code: str) -> None:
    with pytest.raises(BuildpackError) as caught:
        python_version.parse_request(text, ".python-version")
    assert caught.value.code == code


def test_unknown_exact_version_names_the_line() -> None:
    request = python_version.parse_request("3.8.10", ".python-version")
    with pytest.raises(BuildpackError) as caught:
        python_version.resolve(request, MIRROR)
    assert caught.value.code == "python-version::not-available"
    assert "3.8.18" in caught.value.detail
    assert "`3.8`" in caught.value.hint


def test_unknown_line_lists_all_versions() -> None:
    request = python_version.parse_request("3.5", ".python-version")
    with pytest.raises(BuildpackError) as caught:
        python_version.resolve(request, MIRROR)
    assert "2.7.18" in caught.value.detail
    assert "3.13.0" in caught.value.detail


def test_prerelease_only_when_asked_exactly() -> None:
    request = python_version.parse_request("3.14", ".python-version")
    with pytest.raises(BuildpackError):
        python_version.resolve(request, MIRROR)
