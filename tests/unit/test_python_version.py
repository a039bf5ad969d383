from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_buildpack.analysis import python_version, version_policy
from python_buildpack.analysis.dependency_manifest import DependencyManifest
from python_buildpack.reporting.errors import BuildpackError

MIRROR = ["2.7.18", "3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13", "3.11.7", "3.12.1",
          "3.13.0", "3.13.1rc1", "3.14.0a1"]


@pytest.mark.parametrize(
    ("content", "token", "others"),
    [
        (b"3.12\n", "3.12", []),
        (b"3.12", "3.12", []),
        (b"  3.12.1  \r\n", "3.12.1", []),
        (b"\r\n3.11\r\n", "3.11", []),
        (b"\xef\xbb\xbf3.11\n", "3.11", []),
        (b"\xef\xbb\xbf\n  \n3.11", "3.11", []),
        (b"# pinned\n\n3.10\n", "3.10", []),
        (b"   # indented comment\n3.10\n", "3.10", []),
        (b"\t3.9\t\n", "3.9", []),
        (b"3.12 3.11\n", "3.12", ["3.11"]),
        (b"3.12\n2.7\n", "3.12", ["2.7"]),
        (b"3.12\n# 2.7\n", "3.12", []),
        (b"python-3.9", "python-3.9", []),
        (b"3.13.0rc1\n", "3.13.0rc1", []),
        (b"pypy3.10\n", "pypy3.10", []),  # refused later, by parse_request
    ],
)
def test_parse_version_file(content: bytes, token: str, others: list[str]) -> None:
    assert python_version.parse_version_file(content) == (token, others)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "python-version::empty"),
        (b"\n\n  \n", "python-version::empty"),
        (b"# nothing\n", "python-version::empty"),
        (b"\xef\xbb\xbf", "python-version::empty"),
        (b"\r\n  # 3.12\r\n\t\r\n", "python-version::empty"),
        (b"\xff\xfe3\x00.\x001\x00", "python-version::unreadable"),
        (b"3.12\x00", "python-version::unreadable"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "python-version::unreadable"),
        (b"3" * 5000, "python-version::unreadable"),
    ],
)
def test_parse_version_file_refuses(content: bytes, code: str) -> None:
    with pytest.raises(BuildpackError) as caught:
        python_version.parse_version_file(content)
    assert caught.value.code == code


@pytest.mark.parametrize("name", [".python-version", "runtime.txt"])
def test_an_empty_file_is_called_empty_and_shows_what_to_write(name: str) -> None:
    with pytest.raises(BuildpackError) as caught:
        python_version.parse_version_file(b"\n# pin me\n", name)
    assert caught.value.title == f"{name} is empty"
    assert 'Found ""' not in caught.value.detail
    assert "3.12" in caught.value.hint
    assert f"delete {name}" in caught.value.hint


@pytest.mark.parametrize(
    ("text", "resolved"),
    [
        ("3.12", "3.12.1"),
        ("3.12.1", "3.12.1"),
        ("3", "3.13.0"),
        ("2", "2.7.18"),
        ("2.7", "2.7.18"),
        ("2.7.18", "2.7.18"),
        ("3.6", "3.6.15"),
        ("3.7", "3.7.16"),
        ("3.8", "3.8.18"),
        ("3.9", "3.9.18"),
        ("3.10", "3.10.13"),
        ("3.11", "3.11.7"),
        ("python-3.8", "3.8.18"),
        ("python3.8", "3.8.18"),
        ("Python-3.11.7", "3.11.7"),
        ("3.13", "3.13.0"),
        ("3.13.0", "3.13.0"),
        ("3.13.1rc1", "3.13.1rc1"),
        ("3.14.0a1", "3.14.0a1"),
        ("3.13.1RC1", "3.13.1rc1"),
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
        ("PyPy", "python-version::unsupported-implementation"),
        ("jython-2.7.2", "python-version::unsupported-implementation"),
        ("ironpython-3.4.0", "python-version::unsupported-implementation"),
        ("graalpy-23.0.0", "python-version::unsupported-implementation"),
        ("micropython-1.19.1", "python-version::unsupported-implementation"),
        ("miniconda3-latest", "python-version::unsupported-implementation"),
        ("miniforge3-22.11.1", "python-version::unsupported-implementation"),
        ("anaconda3-2023.03", "python-version::unsupported-implementation"),
        ("mambaforge", "python-version::unsupported-implementation"),
        ("stackless-3.7.5", "python-version::unsupported-implementation"),
        ("pyston-2.3.5", "python-version::unsupported-implementation"),
        ("system", "python-version::system"),
        ("System", "python-version::system"),
        ("latest", "python-version::invalid"),
        ("3.x", "python-version::invalid"),
        ("3.12.1.4", "python-version::invalid"),
        ("v3.12", "python-version::invalid"),
        (">=3.8", "python-version::invalid"),
        ("3.12-dev", "python-version::invalid"),
        ("3.12.", "python-version::invalid"),
        (".3.12", "python-version::invalid"),
        ("3,12", "python-version::invalid"),
        ("३.१२", "python-version::invalid"),  # Devanagari digits are \d, not versions
    ],
)
def test_parse_request_refuses(text: str, code: str) -> None:
    with pytest.raises(BuildpackError) as caught:
        python_version.parse_request(text, ".python-version")
    assert caught.value.code == code
    assert caught.value.hint  # every refusal shows a valid example


def test_unknown_exact_version_names_the_line() -> None:
    request = python_version.parse_request("3.8.10", ".python-version")
    with pytest.raises(BuildpackError) as caught:
        python_version.resolve(request, ["3.8.18", "3.12.1"])
    assert caught.value.code == "python-version::not-available"
    assert "3.8.18" in caught.value.detail
    assert "3.12.1" not in caught.value.detail
    assert "`3.8`" in caught.value.hint


@pytest.mark.parametrize(
    ("text", "origin", "title", "detail"),
    [
        ("python-3.10.0", "runtime.txt", "Python 3.10.0 is not available",
         'runtime.txt asks for Python 3.10.0 (it says "python-3.10.0").'),
        ("Python3.10", ".python-version", "Python 3.10 is not available",
         '.python-version asks for Python 3.10 (it says "Python3.10").'),
        ("3.5.0RC1", ".python-version", "Python 3.5.0rc1 is not available",
         '.python-version asks for Python 3.5.0rc1 (it says "3.5.0RC1").'),
        ("3.10.0", ".python-version", "Python 3.10.0 is not available",
         ".python-version asks for Python 3.10.0. Versions"),
    ],
)
def test_not_available_names_the_version_and_what_the_file_says(
    text: str, origin: str, title: str, detail: str
) -> None:
    request = python_version.parse_request(text, origin)
    with pytest.raises(BuildpackError) as caught:
        python_version.resolve(request, ["3.8.18", "3.12.1"])
    assert caught.value.title == title
    assert caught.value.detail.startswith(detail)


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


def test_invisible_characters_are_made_visible() -> None:
    with pytest.raises(BuildpackError) as caught:
        python_version.parse_request("3.12\u200b", ".python-version")
    assert "\\u200b" in caught.value.detail


BUILD_DAY = datetime.date(2026, 12, 3)


def choose_version(version_file: bytes | None, runtime_txt: bytes | None, default: str | None,
                   available: list[str], today: datetime.date = BUILD_DAY) -> python_version.VersionChoice:
    """The version files' rules alone (no project, lock or previous build: test_version_policy)."""
    return version_policy.choose(version_policy.VersionInputs(
        version_file, runtime_txt, default, None, available, DependencyManifest("requirements"), (), today))


# --- choose_version: the rules in order ----------------------------------------------


@pytest.mark.parametrize(
    ("version_file", "runtime_txt", "default", "version", "reason"),
    [
        (b"3.11\n", None, None, "3.11.7", "from .python-version (3.11)"),
        (b"3.11\n", b"python-3.8.18\n", "2.7", "3.11.7", "from .python-version (3.11)"),
        (None, b"python-3.8.18\n", "2.7", "3.8.18", "from runtime.txt (python-3.8.18)"),
        (None, None, "2.7", "2.7.18", "from PYTHON_DEFAULT_VERSION (2.7)"),
        (None, None, None, "3.13.0", "the newest stable version in the mirror"),
    ],
)
def test_choose_version_rules(version_file: bytes | None, runtime_txt: bytes | None,
                              default: str | None, version: str, reason: str) -> None:
    choice = choose_version(version_file, runtime_txt, default, MIRROR)
    assert choice.version == version
    assert choice.reason.startswith(reason)


def test_runtime_txt_notices() -> None:
    used = choose_version(None, b"python-3.12.1", None, MIRROR)
    assert any("Using runtime.txt" in notice for notice in used.notices)
    ignored = choose_version(b"3.12", b"python-3.8.18", None, MIRROR)
    assert any("Ignoring runtime.txt" in notice for notice in ignored.notices)


def warning_titles(choice: python_version.VersionChoice) -> list[str]:
    return [title for title, _ in choice.warnings]


def test_several_versions_warn() -> None:
    choice = choose_version(b"3.12 3.11\n", None, None, MIRROR)
    assert choice.version == "3.12.1"
    assert warning_titles(choice) == [".python-version names several versions; the first is used"]




@pytest.mark.parametrize("line", ["2.7", "3.6", "3.7", "3.8", "3.9", "3.10"])
def test_end_of_life_lines_warn(line: str) -> None:
    choice = choose_version(line.encode(), None, None, MIRROR)
    assert f"Python {line} has reached its end of life" in warning_titles(choice)


@pytest.mark.parametrize("line", ["3.11", "3.12", "3.13"])
def test_supported_lines_do_not_warn(line: str) -> None:
    choice = choose_version(line.encode(), None, None, MIRROR)
    assert (choice.warnings, choice.notices) == ([], [])


@pytest.mark.parametrize(
    ("text", "version", "free_threaded"),
    [("3.13t", "3.13t", True), ("3.13.0t", "3.13.0t", True), ("python-3.14T", "3.14t", True),
     ("3.13", "3.13", False)],
)
def test_free_threaded_requests(text: str, version: str, free_threaded: bool) -> None:
    request = python_version.parse_request(text, ".python-version")
    assert (request.version, request.free_threaded) == (version, free_threaded)


def test_free_threaded_is_met_only_by_a_free_threaded_entry() -> None:
    mirror = ["3.12.1", "3.13.0", "3.13.1t"]
    choice = choose_version(b"3.13t\n", None, None, mirror)
    assert (choice.version, choice.free_threaded) == ("3.13.1", True)
    plain = choose_version(b"3.13\n", None, None, mirror)
    assert (plain.version, plain.free_threaded) == ("3.13.0", False)
    assert choose_version(None, None, None, mirror).version == "3.13.0"


def test_free_threaded_missing_lists_the_mirror() -> None:
    with pytest.raises(BuildpackError) as caught:
        choose_version(b"3.13t\n", None, None, ["3.12.1", "3.13.0"])
    assert caught.value.code == "python-version::not-available"
    assert "Python 3.13t is not available" in caught.value.title
    assert "3.12.1, 3.13.0" in caught.value.detail


def test_old_exact_pin_warns_with_the_newest_patch() -> None:
    choice = choose_version(b"3.12.0", None, None, ["3.12.0", "3.12.3"])
    assert choice.version == "3.12.0"
    [(title, detail)] = choice.warnings
    assert title == "Python 3.12.0 is not the newest 3.12 release"
    assert "3.12.3" in detail


# --- properties: no input makes parsing or resolution fail other than cleanly ---------


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_any_file_content_is_chosen_or_refused_cleanly(content: bytes) -> None:
    try:
        choice = choose_version(content, None, None, MIRROR)
    except BuildpackError as err:
        assert err.code.startswith("python-version::")
    else:
        assert choice.version in MIRROR


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60), st.lists(st.text(max_size=12), max_size=6))
def test_any_request_and_mirror_resolve_or_refuse_cleanly(text: str, available: list[str]) -> None:
    try:
        request = python_version.parse_request(text, ".python-version")
        resolved = python_version.resolve(request, available)
    except BuildpackError as err:
        assert err.code.startswith("python-version::")
    else:
        assert resolved in [str(v) for v in python_version.parse_available(available)]
