"""pip and uv failures, diagnosed from their real output (captured from pip 23.2.1
and uv 0.13.9 on this machine, see tests/data/installer-output)."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack import errors
from python_buildpack.pip_failures import diagnose

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "installer-output"


def sample(name: str) -> list[str]:
    return (SAMPLES / name).read_text().splitlines()


@pytest.mark.parametrize(("name", "cause", "requirement", "quoted"), [
    ("pip-nosuch.txt", "no-such-package", "leanengine-no-such-package-xyz", "(from versions: none)"),
    ("uv-nosuch.txt", "no-such-package", "leanengine-no-such-package-xyz", "not found in the package registry"),
    ("pip-noversion.txt", "no-matching-version", "flask==0.0.1", "the newest: 3.0.0, 3.0.1"),
    ("uv-noversion.txt", "no-matching-version", "flask==0.0.1", "there is no version of flask==0.0.1"),
    ("pip-build.txt", "build-failed", "./badpkg", "foo.h not found"),
    ("uv-build.txt", "build-failed", None, "foo.h not found"),
    ("pip-network.txt", "network", None, "Connection refused"),
    ("pip-conflict.txt", "conflict", None, "flask 3.0.0 depends on Werkzeug>=3.0.0"),
    ("uv-conflict.txt", "conflict", None, "flask==3.0.0 depends on werkzeug>=3.0.0"),
])
def test_the_cause_and_the_lines_that_show_it(name: str, cause: str, requirement: str | None,
                                              quoted: str) -> None:
    diagnosis = diagnose(sample(name))
    assert diagnosis.cause == cause
    assert diagnosis.requirement == requirement
    assert any(quoted in line for line in diagnosis.quoted), diagnosis.quoted


def test_the_error_names_the_requirement_and_the_fix() -> None:
    err = errors.pip_failed("install the app's requirements", 1, diagnose(sample("pip-build.txt")), "3.12.1")
    assert err.code == "pip::build-failed"
    assert err.title == "./badpkg has no wheel for Python 3.12.1 here, and building it from source failed"
    assert "foo.h not found" in err.detail
    assert "systemDependencies" in err.hint


def test_unknown_failures_quote_pips_error_lines() -> None:
    diagnosis = diagnose(["Collecting x", "ERROR: something new went wrong"])
    assert diagnosis.cause == "other"
    assert diagnosis.quoted == ("ERROR: something new went wrong",)
    assert errors.pip_failed("install", 2, diagnosis, "3.12.1").code == "pip::install-failed"
