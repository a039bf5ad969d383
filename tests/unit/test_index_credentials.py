"""The app's index credentials: what reaches uv, what counts as a secret, a bad netrc."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from python_buildpack.install import index_credentials, index_probe
from python_buildpack.reporting import output
from python_buildpack.reporting.errors import BuildpackError
from python_buildpack.support import private_files


def test_uvs_own_index_settings_pass_and_nothing_else() -> None:
    app_env = {"UV_INDEX": "private=https://pkgs.example/simple/", "UV_INDEX_PRIVATE_USERNAME": "deploy",
               "UV_INDEX_PRIVATE_PASSWORD": "s3cret-token", "UV_EXTRA_INDEX_URL": "https://x.example/simple",
               "UV_CACHE_DIR": "/elsewhere", "UV_NO_CONFIG": "0", "UV_INDEX_STRATEGY": "first-index"}
    assert sorted(index_credentials.uv_settings(app_env)) == [
        "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_INDEX_PRIVATE_PASSWORD", "UV_INDEX_PRIVATE_USERNAME"]
    basic = base64.b64encode(b"deploy:s3cret-token").decode()
    assert output.redact(f"Authorization: Basic {basic}") == "Authorization: Basic [redacted]"


def test_every_form_of_a_url_password_is_a_secret() -> None:
    index_credentials.register_url_credentials(
        {"PIP_EXTRA_INDEX_URL": "https://user:p%40ss%2Fword9@pkgs.example/simple/"}, ("PIP_EXTRA_INDEX_URL",))
    for form in ("p%40ss%2Fword9", "p@ss/word9", base64.b64encode(b"user:p@ss/word9").decode()):
        assert form not in output.redact(f"printed: {form}")
    # The path every index has is no secret: hiding it would garble every URL in the log.
    assert output.redact("https://pypi.org/simple/flask/") == "https://pypi.org/simple/flask/"


def test_a_netrc_is_written_privately_and_its_password_is_a_secret() -> None:
    path = index_credentials.netrc_path({"NETRC": "machine pkgs.example login ci password n3trc-pass"})
    try:
        assert os.stat(path).st_mode & 0o777 == 0o600
        assert os.stat(Path(path).parent).st_mode & 0o777 == 0o700
        assert "n3trc-pass" not in output.redact("password n3trc-pass")
    finally:
        private_files.remove_all()
    assert not Path(path).exists()


def test_without_a_netrc_the_hosts_is_never_read() -> None:
    assert index_credentials.netrc_path({}) == os.devnull


@pytest.mark.parametrize("value", ["/home/me/.netrc", "login ci password t0ken-value"])
def test_a_netrc_that_is_not_one(value: str) -> None:
    with pytest.raises(BuildpackError) as caught:
        index_credentials.netrc_path({"NETRC": value})
    assert caught.value.code == "env::bad-netrc"
    assert value not in caught.value.detail + caught.value.hint


def test_the_indexes_an_installer_was_given() -> None:
    env = {"PIP_EXTRA_INDEX_URL": "https://a.example/simple https://b.example/simple",
           "UV_INDEX": "private=https://c.example/simple/"}
    assert index_probe.index_urls(env) == [
        ("PIP_EXTRA_INDEX_URL", "https://a.example/simple", None),
        ("PIP_EXTRA_INDEX_URL", "https://b.example/simple", None),
        ("UV_INDEX", "https://c.example/simple/", "private")]
