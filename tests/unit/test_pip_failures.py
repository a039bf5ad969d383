"""pip and uv failures, diagnosed from their real output (captured from pip 23.2.1,
pip 24.2 and uv 0.13.9 on this machine, see tests/data/installer-output/README.md)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from python_buildpack.install.pip_failures import diagnose
from python_buildpack.reporting import errors
from python_buildpack.system import system_registry

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
    ("pip-gdal.txt", "build-failed", "GDAL==3.10.0", "No such file or directory: 'gdal-config'"),
    ("uv-gdal.txt", "build-failed", "gdal", "No such file or directory: 'gdal-config'"),
    ("pip-invalid-metadata.txt", "invalid-metadata", "celery", "pytz (>dev)"),
    ("pip-vcs-refused.txt", "vcs-unreachable", "leanengine-git-demo", "Couldn't connect to server"),
    ("uv-vcs-refused.txt", "vcs-unreachable", "leanengine-git-demo", "Couldn't connect to server"),
    ("pip-vcs-resolve.txt", "vcs-unreachable", "x", "Could not resolve host: no-such-host.invalid"),
    ("uv-vcs-resolve.txt", "vcs-unreachable", "leanengine-git-demo", "Could not resolve host"),
    ("pip-vcs-auth.txt", "vcs-auth", "leanengine-git-demo", "terminal prompts disabled"),
    ("uv-vcs-auth.txt", "vcs-auth", "leanengine-git-demo", "terminal prompts disabled"),
    ("pip-vcs-auth-token.txt", "vcs-auth", "leanengine-git-demo", "Authentication failed for"),
    ("uv-vcs-auth-token.txt", "vcs-auth", "leanengine-git-demo", "Authentication failed for"),
    ("pip-vcs-403.txt", "vcs-auth", "leanengine-git-demo", "returned error: 403"),
    ("uv-vcs-403.txt", "vcs-auth", "leanengine-git-demo", "returned error: 403"),
    ("pip-vcs-ref.txt", "vcs-ref-not-found", "leanengine-git-demo", "did not match any file(s) known to git"),
    ("uv-vcs-ref.txt", "vcs-ref-not-found", "leanengine-git-demo", "couldn't find remote ref"),
    ("uv-vcs-commit.txt", "vcs-ref-not-found", "leanengine-git-demo", "not our ref"),
])
def test_the_cause_and_the_lines_that_show_it(name: str, cause: str, requirement: str | None,
                                              quoted: str) -> None:
    diagnosis = diagnose(sample(name))
    assert diagnosis.cause == cause
    assert diagnosis.requirement == requirement
    assert any(quoted in line for line in diagnosis.quoted), diagnosis.quoted


def failed(name: str, **kwargs: str | None) -> errors.BuildpackError:
    """The error for a captured output, as pip_install raises it."""
    diagnosis = diagnose(sample(name))
    installer = "uv" if name.startswith("uv-") else "pip"
    return errors.pip_failed("install the app's requirements", 1, diagnosis, "3.12.1", installer=installer,
                             hook=system_registry.hook_providing(diagnosis.name), **kwargs)


def test_the_error_names_the_requirement_and_the_fix() -> None:
    err = failed("pip-build.txt")
    assert err.code == "pip::build-failed"
    assert err.title == "./badpkg has no wheel for Python 3.12.1 here, and building it from source failed"
    assert "foo.h not found" in err.detail
    # A local path has no releases with wheels to pin.
    assert "./badpkg is built from its own source" in err.hint
    assert "pypi.org" not in err.hint


def test_pips_verdict_is_quoted_once() -> None:
    verdict = "× Getting requirements to build wheel did not run successfully."
    assert failed("pip-build.txt").detail.count(verdict) == 1
    assert failed("pip-gdal.txt").detail.count(verdict) == 1


def test_gdal_is_not_told_to_use_a_hook_that_does_not_provide_it() -> None:
    err = failed("pip-gdal.txt")
    assert "FileNotFoundError: [Errno 2] No such file or directory: 'gdal-config'" in err.detail
    assert "Traceback" not in err.detail
    assert "If a release of GDAL publishes wheels for Linux and Python 3.12.1" in err.hint
    assert "Use a version of" not in err.hint
    assert "None of the systemDependencies entries is known to provide what GDAL builds against" in err.hint


def test_a_project_a_hook_provides_for_is_told_which_one() -> None:
    diagnosis = replace(diagnose(sample("pip-gdal.txt")), requirement="pycairo==1.20.0")
    err = errors.pip_failed("install", 1, diagnosis, "3.12.1",
                            hook=system_registry.hook_providing(diagnosis.name))
    assert "add `systemDependencies: [node-canvas]` to leanengine.yaml" in err.hint
    assert system_registry.hook_providing("TA_Lib") == "python-talib"
    assert system_registry.hook_providing("Wand") == "imagemagick"
    assert system_registry.hook_providing("GDAL") is None


def test_no_package_name_reads_as_prose() -> None:
    err = failed("uv-build.txt")
    assert err.title.startswith("A requirement has no wheel")
    assert "of a that" not in err.hint
    assert "If a release of the package publishes wheels" in err.hint
    assert "known to provide what it builds against" in err.hint


def test_uv_failures_are_titled_uv() -> None:
    err = failed("uv-vcs-refused.txt")
    assert err.detail.startswith("uv could not install the app's requirements (exit code 1).")
    other = errors.pip_failed("install the app's requirements", 2, diagnose(["error: something new"]),
                              "3.12.1", installer="uv")
    assert other.title == "uv failed; what it said is quoted below"
    assert "pip" not in other.title + other.detail


@pytest.mark.parametrize(("name", "title", "url", "advice"), [
    ("pip-vcs-refused.txt", "git could not reach the repository of leanengine-git-demo",
     "http://127.0.0.1:9/org/repo.git", "reachable from the build machine"),
    ("uv-vcs-resolve.txt", "git could not reach the repository of leanengine-git-demo",
     "https://no-such-host.invalid/org/repo.git", "reachable from the build machine"),
    ("pip-vcs-auth.txt", "git was refused access to the repository of leanengine-git-demo",
     "http://127.0.0.1:18401/org/repo.git", "GIT_CREDENTIALS"),
    ("uv-vcs-403.txt", "git was refused access to the repository of leanengine-git-demo",
     "http://127.0.0.1:18403/org/repo.git", "GIT_CREDENTIALS"),
    ("pip-vcs-ref.txt", "The git repository of leanengine-git-demo has no `no-such-ref`",
     "file:///tmp/diag-cap/repo", "branch, tag or full commit hash"),
    ("uv-vcs-commit.txt",
     "The git repository of leanengine-git-demo has no `0123456789abcdef0123456789abcdef01234567`",
     "file:///tmp/diag-cap/repo", "branch, tag or full commit hash"),
])
def test_git_failures_name_the_repository_and_give_git_advice(name: str, title: str, url: str,
                                                               advice: str) -> None:
    err = failed(name)
    assert err.title == title
    assert f"The repository: {url}" in err.detail
    assert any(line.strip().startswith("fatal:") or "pathspec" in line for line in err.detail.splitlines())
    assert advice in err.hint
    assert "pypi.org" not in err.hint
    assert "systemDependencies" not in err.hint
    assert "wheel" not in err.title + err.hint


def test_uvs_git_operation_failed_without_a_known_git_line() -> None:
    lines = [line for line in sample("uv-vcs-refused.txt") if "fatal:" not in line]
    err = errors.pip_failed("install", 1, diagnose(lines), "3.12.1", installer="uv")
    assert err.code == "pip::vcs-failed"
    assert err.title == "git could not fetch leanengine-git-demo"
    assert "cause: Git operation failed" in err.detail
    assert "PyPI" not in err.hint


@pytest.mark.parametrize("name", ["pip-vcs-token-user.txt", "pip-vcs-auth-token.txt", "uv-vcs-auth-token.txt"])
def test_credentials_in_a_git_url_never_reach_the_message(name: str) -> None:
    err = failed(name)
    text = "\n".join((err.title, err.detail, err.hint))
    assert "ghp_leanenginetesttoken0123" not in text
    assert "deploy:" not in text
    assert "[redacted]@127.0.0.1" in text


def test_pip_shows_a_token_given_as_the_user_name_and_the_buildpack_hides_it() -> None:
    raw = "\n".join(sample("pip-vcs-token-user.txt"))
    assert "ghp_leanenginetesttoken0123:****@" in raw  # pip masks only the password
    assert "ghp_leanenginetesttoken0123" not in errors.without_credentials(raw)
    assert errors.without_credentials("git+ssh://git@host/org/repo.git") == "git+ssh://git@host/org/repo.git"


def test_invalid_metadata_names_the_release_the_reason_and_the_pip() -> None:
    err = failed("pip-invalid-metadata.txt", installer_version="24.2")
    assert err.code == "pip::invalid-metadata"
    assert err.title == "celery 5.2.0 has invalid metadata, which pip 24.2 refuses"
    assert "Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS" in err.detail
    assert "pytz (>dev)" in err.detail
    assert "files.pythonhosted.org" not in err.detail
    assert "226 releases" not in err.detail
    assert "No release of" not in err.title
    assert "Please use pip<24.1" in err.hint
    assert "PYTHON_INSTALLER=uv" in err.hint
    assert "older than 24.1" in err.hint


def test_unknown_failures_quote_pips_error_lines() -> None:
    diagnosis = diagnose(["Collecting x", "ERROR: something new went wrong"])
    assert diagnosis.cause == "other"
    assert diagnosis.quoted == ("ERROR: something new went wrong",)
    assert errors.pip_failed("install", 2, diagnosis, "3.12.1").code == "pip::install-failed"
