from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from python_buildpack.reporting import output
from python_buildpack.reporting.errors import BuildpackError
from python_buildpack.runtime.mirror import Mirror, RuntimeEntry, parse_manifest


def test_parse_manifest() -> None:
    document = {"runtimes": [{"version": "3.12.1", "url": "a.tar.gz", "sha256": "AB" * 32, "size": 5}]}
    assert parse_manifest(document, "m") == [RuntimeEntry("3.12.1", "a.tar.gz", "ab" * 32, 5)]


@pytest.mark.parametrize(
    "document",
    [[], {"runtimes": {}}, {"runtimes": [1]}, {"runtimes": [{"version": "3.12.1", "url": "a"}]},
     {"runtimes": [{"version": 3, "url": "a", "sha256": "b"}]}],
)
def test_parse_manifest_refuses(document: object) -> None:
    with pytest.raises(BuildpackError) as caught:
        parse_manifest(document, "m")
    assert caught.value.code == "mirror::bad-manifest"


@pytest.mark.parametrize(
    ("base", "relative", "allowed"),
    [
        ("http://127.0.0.1:8000/mirror", "a.tar.gz", True),
        ("http://127.0.0.1:8000/mirror/", "https://cdn.example/a.tar.gz", True),
        ("http://127.0.0.1:8000/mirror/", "file:///etc/passwd", False),
        ("file:///srv/mirror", "a.tar.gz", True),
        ("file:///srv/mirror", "../etc/passwd", False),
        ("file:///srv/mirror", "file:///etc/passwd", False),
        ("file:///srv/mirror", "http://127.0.0.1/a.tar.gz", False),
        # found by the stress suite: relative paths out of an http mirror, NUL bytes
        ("http://127.0.0.1:8000/mirror/", "sub/a.tar.gz", True),
        ("http://127.0.0.1:8000/mirror/", "../secret.tar.gz", False),
        ("http://127.0.0.1:8000/mirror/", "%2e%2e/secret.tar.gz", False),
        ("http://127.0.0.1:8000/mirror/", "/elsewhere/a.tar.gz", False),
        ("http://127.0.0.1:8000/mirror/", "//other-host/a.tar.gz", False),
        ("file:///srv/mirror", "a\x00.tar.gz", False),
        ("file:///srv/mirror", "a%00.tar.gz", False),
    ],
)
def test_archive_urls_stay_in_the_mirror(base: str, relative: str, allowed: bool) -> None:
    mirror = Mirror(base)
    if allowed:
        assert mirror.url_of(relative)
    else:
        with pytest.raises(BuildpackError) as refused:
            mirror.url_of(relative)
        assert refused.value.code == "mirror::unsafe-url"


def test_mirror_url_scheme_is_checked() -> None:
    with pytest.raises(BuildpackError) as caught:
        Mirror("ftp://example/")
    assert caught.value.code == "mirror::bad-url"


def test_redact_hides_registered_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    output.register_secrets(["s3cr3t-master-key", "1", "line-one-secret\nline-two-secret"])
    output.info("key=s3cr3t-master-key, count=1, line-two-secret")
    printed = capsys.readouterr().out
    assert "s3cr3t" not in printed
    assert "line-two-secret" not in printed
    assert "count=1" in printed  # too short to be a secret


def test_redact_hides_the_parts_of_secret_urls(capsys: pytest.CaptureFixture[str]) -> None:
    output.register_secrets(["https://user:pa55word-x@pypi.example/tok3n-abcdef/simple"])
    output.info("Retrying ... /tok3n-abcdef/simple/flask/ as user:pa55word-x")
    printed = capsys.readouterr().out
    assert "tok3n" not in printed
    assert "pa55word" not in printed


def test_a_step_log_removed_under_a_build_does_not_fail_it(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    # Regression (found by the concurrent-builds stress test): a build beside
    # this one on the same cache pruned this build's log directory mid-step.
    logs = tmp_path / "logs" / "this-build"
    output.configure_build_log(logs, live=False)
    output.heading("Installing dependencies")
    output.subprocess_line("Collecting flask\n")
    shutil.rmtree(tmp_path / "logs")
    output.subprocess_line("Collecting click\n")
    output.end_step()
    output.configure_build_log(None, live=True)
    assert "Collecting click" in "".join(p.read_text() for p in logs.glob("*.log"))
    assert "Collecting flask" not in capsys.readouterr().out
