"""The version policy's rules, one table each: the sticky line, the SDK-aware
default, pins beside an incompatible package, the end-of-life table by date."""

from __future__ import annotations

import datetime

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from python_buildpack.analysis import incompatible_packages, python_lifecycle, version_policy
from python_buildpack.analysis.declared_packages import DeclaredPackage
from python_buildpack.analysis.dependency_manifest import DependencyManifest
from python_buildpack.analysis.incompatible_packages import Incompatibility
from python_buildpack.analysis.python_version import VersionChoice
from python_buildpack.reporting.errors import BuildpackError

MIRROR = ["3.8.18", "3.10.13", "3.11.6", "3.11.7", "3.12.1", "3.13.0", "3.14.0rc1"]
DAY = datetime.date(2026, 12, 3)
REQUIREMENTS = DependencyManifest("requirements")
SDK = (incompatible_packages.Incompatibility("leancloud", SpecifierSet("<3.12"), "needs gevent<23", "a test"),)


def choose(version_file: bytes | None = None, *, default: str | None = None, previous: str | None = None,
           held_back: tuple[Incompatibility, ...] = (), manifest: DependencyManifest = REQUIREMENTS,
           available: list[str] = MIRROR, runtime_txt: bytes | None = None) -> VersionChoice:
    return version_policy.choose(version_policy.VersionInputs(
        version_file, runtime_txt, default, previous, available, manifest, held_back, DAY))


def refused(**kwargs: object) -> BuildpackError:
    with pytest.raises(BuildpackError) as caught:
        choose(**kwargs)  # type: ignore[arg-type]
    return caught.value


# --- the order of the sources ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "version", "reason"),
    [
        ({}, "3.13.0", "the newest stable version in the mirror"),
        ({"default": "3.11"}, "3.11.7", "from PYTHON_DEFAULT_VERSION (3.11)"),
        ({"previous": "3.12"}, "3.12.1", "as before: kept on 3.12 (the line of the previous build);"
                                         " pin a version in .python-version to move"),
        # The previous build's line wins over the platform's default, which is for apps never built.
        ({"previous": "3.12", "default": "3.11"}, "3.12.1", "as before: kept on 3.12"),
        # The newest patch of the line, not the patch built last.
        ({"previous": "3.11"}, "3.11.7", "as before: kept on 3.11"),
        ({"version_file": b"3.10\n", "previous": "3.12"}, "3.10.13", "from .python-version (3.10)"),
        ({"runtime_txt": b"python-3.11.6\n", "previous": "3.12"}, "3.11.6", "from runtime.txt"),
        # A range keeps the previous line while it is inside it...
        ({"manifest": DependencyManifest("pyproject", project_python=">=3.10"), "previous": "3.12"},
         "3.12.1", "as before: kept on 3.12"),
        # ...and decides once the project moves it.
        ({"manifest": DependencyManifest("pyproject", project_python=">=3.13"), "previous": "3.12"},
         "3.13.0", "from requires-python in pyproject.toml (>=3.13)"),
        ({"manifest": DependencyManifest("pipenv", lock="Pipfile.lock", lock_python="==3.11.*"),
          "previous": "3.12"}, "3.11.7", "from the Python Pipfile.lock was made for"),
    ],
)
def test_the_sources_in_order(kwargs: dict[str, object], version: str, reason: str) -> None:
    choice = choose(**kwargs)  # type: ignore[arg-type]
    assert (choice.version, choice.reason[:len(reason)]) == (version, reason)


def test_a_line_gone_from_the_mirror_is_chosen_anew() -> None:
    choice = choose(previous="3.9")
    assert choice.version == "3.13.0"
    assert "The previous build's Python 3.9 is no longer in the mirror: choosing anew." in choice.notices


def test_a_new_line_in_the_mirror_does_not_move_an_unpinned_app() -> None:
    first = choose(available=["3.11.7", "3.12.1"])
    assert first.version == "3.12.1"
    again = choose(available=["3.11.7", "3.12.1", "3.12.2", "3.13.0"], previous="3.12")
    assert again.version == "3.12.2"


# --- packages that hold an app back ------------------------------------------------------------


def test_the_sdk_default_is_the_newest_line_it_installs_on() -> None:
    choice = choose(held_back=SDK)
    assert choice.version == "3.11.7"
    assert choice.reason == "the newest line in the mirror on which leancloud installs (leancloud: Python <3.12)"
    assert choice.notices == ["leancloud installs on Python <3.12 only: needs gevent<23 (source: a test).",
                              "To build on another line leancloud installs on, pin it in .python-version."]


@pytest.mark.parametrize(
    ("kwargs", "version", "notice"),
    [
        ({"default": "3.12"}, "3.11.7", "Not the platform's default Python 3.12.1 (PYTHON_DEFAULT_VERSION):"
                                         " leancloud does not install on it."),
        ({"default": "3.10"}, "3.10.13", None),
        ({"previous": "3.12"}, "3.11.7", "Leaving the previous build's Python 3.12: leancloud does not"
                                          " install on it."),
        ({"previous": "3.10"}, "3.10.13", None),
    ],
)
def test_the_sdk_narrows_every_default(kwargs: dict[str, object], version: str, notice: str | None) -> None:
    choice = choose(held_back=SDK, **kwargs)  # type: ignore[arg-type]
    assert choice.version == version
    assert notice is None or notice in choice.notices


def test_a_range_is_narrowed_too() -> None:
    choice = choose(held_back=SDK, manifest=DependencyManifest("pyproject", project_python=">=3.10"))
    assert choice.version == "3.11.7"
    assert "on which leancloud installs" in choice.reason


@pytest.mark.parametrize(("pin", "origin"), [(b"3.12\n", ".python-version"), (b"3.13.0\n", ".python-version")])
def test_a_pin_the_sdk_cannot_install_on_is_an_error_with_the_fix(pin: bytes, origin: str) -> None:
    error = refused(version_file=pin, held_back=SDK)
    assert error.code == "python-version::incompatible-package"
    assert error.title.startswith("leancloud does not install on Python 3.1")
    assert "installs on Python <3.12 only: needs gevent<23 (source: a test)" in error.detail
    assert "Stopped before installing anything" in error.detail
    assert error.hint.startswith(f"Put `3.11` in {origin}")


def test_runtime_txt_pins_are_checked_too() -> None:
    error = refused(runtime_txt=b"python-3.12.1\n", held_back=SDK)
    assert error.hint.startswith("Put `3.11` in runtime.txt")


def test_a_mirror_without_a_line_the_sdk_installs_on() -> None:
    error = refused(held_back=SDK, available=["3.12.1", "3.13.0"])
    assert error.code == "python-version::incompatible-package"
    assert "The mirror has no Python on which leancloud installs (<3.12)" in error.hint


# --- the table of packages ---------------------------------------------------------------------


def declared(name: str, allowed: str = "", locked: str | None = None) -> dict[str, DeclaredPackage]:
    return {name: DeclaredPackage(name, SpecifierSet(allowed), Version(locked) if locked else None)}


@pytest.mark.parametrize(
    ("packages", "held"),
    [
        (declared("leancloud"), ["leancloud"]),
        (declared("leancloud", ">=2.9.1,<4"), ["leancloud"]),
        (declared("gevent"), []),  # the newest gevent installs on 3.12+
        (declared("gevent", ">=22"), []),
        (declared("gevent", "<23"), ["gevent<23.9"]),
        (declared("gevent", "==22.10.2"), ["gevent<23.9"]),
        (declared("gevent", "==22.*"), ["gevent<23.9"]),
        (declared("gevent", "~=22.10"), ["gevent<23.9"]),  # >=22.10,<23
        (declared("gevent", locked="22.10.2"), ["gevent<23.9"]),
        (declared("gevent", locked="24.2.1"), []),
        (declared("flask"), []),
    ],
)
def test_the_rows_that_hold_an_app_back(packages: dict[str, DeclaredPackage], held: list[str]) -> None:
    assert [row.releases for row in incompatible_packages.holding_back(packages)] == held


@pytest.mark.parametrize(
    ("specifier", "limit", "expected"),
    [("<23", "23.9", True), ("<=23.9", "23.9", False), ("==23.8.*", "23.9", True), ("==23.9.*", "23.9", False),
     ("~=22.10", "23", True), ("~=22.10.1", "22.11", True), (">=22,<24", "23.9", False), ("", "23", False)],
)
def test_only_below(specifier: str, limit: str, expected: bool) -> None:
    assert incompatible_packages.only_below(SpecifierSet(specifier), Version(limit)) is expected


def test_every_row_of_the_table_is_complete() -> None:
    rows = incompatible_packages.table()
    assert {row.package for row in rows} >= {"leancloud", "gevent"}
    assert all(row.reason and row.source and str(row.python) for row in rows)


# --- end of life, from the dated table ---------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "day", "warned", "noticed"),
    [
        ("3.10", datetime.date(2026, 10, 30), False, True),  # ends tomorrow: a notice
        ("3.10", datetime.date(2026, 10, 31), True, False),  # the day it ends
        ("3.10", datetime.date(2026, 4, 29), False, False),  # 6 months and a day before
        ("3.10", datetime.date(2026, 4, 30), False, True),  # 6 months before
        ("3.11", datetime.date(2026, 12, 3), False, False),
        ("3.11", datetime.date(2027, 5, 1), False, True),
        ("3.11", datetime.date(2027, 11, 1), True, False),
        ("2.7", datetime.date(2026, 12, 3), True, False),
        ("3.99", datetime.date(2026, 12, 3), False, False),  # not in the table: nothing to say
    ],
)
def test_end_of_life_by_the_date(line: str, day: datetime.date, warned: bool, noticed: bool) -> None:
    warnings, notices = python_lifecycle.lifecycle_messages(line, day, "3.13")
    assert (bool(warnings), bool(notices)) == (warned, noticed)
    if warned:
        assert warnings[0][0] == f"Python {line} has reached its end of life"
        assert "`3.13`" in warnings[0][1]


def test_the_dated_table_covers_every_line_of_the_machine() -> None:
    table = python_lifecycle.lines()
    assert {"2.7", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14"} <= set(table)
    assert all(row.released < row.end_of_life for row in table.values())


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [(datetime.date(2026, 10, 31), 6, datetime.date(2026, 4, 30)),
     (datetime.date(2027, 1, 15), 6, datetime.date(2026, 7, 15)),
     (datetime.date(2024, 8, 31), 6, datetime.date(2024, 2, 29))],
)
def test_months_before(day: datetime.date, months: int, expected: datetime.date) -> None:
    assert python_lifecycle.months_before(day, months) == expected


def test_the_policy_passes_the_day_on() -> None:
    assert choose(b"3.10\n").warnings[0][0] == "Python 3.10 has reached its end of life"
    assert choose(b"3.11\n").warnings == []
