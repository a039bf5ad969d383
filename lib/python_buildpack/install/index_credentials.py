"""Credentials for the app's package indexes, the same for pip and uv (and so
for the lockfile installs, which run one of them).

From the app's ENV_DIR:
- `PIP_INDEX_URL` / `PIP_EXTRA_INDEX_URL` with `user:password@` in the URL
  (pip reads them, uv gets them under its own names: pip_install.uv_environment);
- `NETRC`: the content of a .netrc file (`machine HOST login USER password
  TOKEN`), written to a private file for the build (support/private_files) and
  named by the `NETRC` variable both tools read. Without it they read
  /dev/null, never the build host's ~/.netrc;
- uv's own index variables, for uv only: `UV_INDEX_URL`, `UV_EXTRA_INDEX_URL`,
  `UV_INDEX`, `UV_DEFAULT_INDEX`, `UV_INDEX_<NAME>_USERNAME` / `_PASSWORD`.
Every credential is registered as a secret in its plain, URL-encoded and HTTP
Basic (base64) forms, so that no tool's output shows it.
"""

from __future__ import annotations

import base64
import netrc
import os
import re
import urllib.parse
from collections.abc import Mapping

from python_buildpack.reporting import errors, output
from python_buildpack.support import private_files

NETRC_SETTING = "NETRC"
UV_SETTINGS = re.compile(
    r"UV_(INDEX_URL|EXTRA_INDEX_URL|INDEX|DEFAULT_INDEX|INDEX_[A-Z0-9_]+_(USERNAME|PASSWORD))\Z")


def netrc_path(app_env: Mapping[str, str]) -> str:
    """The netrc pip and uv read: the app's, written privately, or none at all."""
    content = app_env.get(NETRC_SETTING, "")
    if not content.strip():
        return os.devnull
    path = private_files.write("netrc", content + "\n")
    try:
        parsed = netrc.netrc(str(path))
    except (netrc.NetrcParseError, OSError) as exc:
        private_files.remove_all()
        raise errors.netrc_invalid(getattr(exc, "lineno", None)) from None
    for login, _account, password in parsed.hosts.values():
        register_credentials(login, password)
    return str(path)


def uv_settings(app_env: Mapping[str, str]) -> dict[str, str]:
    """uv's own index variables of the app (they win over those translated from pip's)."""
    found = {name: value for name, value in app_env.items() if UV_SETTINGS.match(name)}
    for name, value in found.items():
        if name.endswith("_USERNAME"):
            register_credentials(value, found.get(name.removesuffix("_USERNAME") + "_PASSWORD", ""))
    for name in ("UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX"):
        for url in found.get(name, "").split():
            parts = urllib.parse.urlsplit(url.split("=", 1)[-1])
            register_credentials(parts.username or "", parts.password or "")
    return found


def register_url_credentials(app_env: Mapping[str, str], names: tuple[str, ...]) -> None:
    for name in names:
        for url in app_env.get(name, "").split():
            parts = urllib.parse.urlsplit(url)
            register_credentials(parts.username or "", parts.password or "")


def register_credentials(login: str, password: str) -> None:
    """A login and password as the tools may print them: plain, URL-encoded, decoded, Basic."""
    forms = []
    for value in (login, password):
        forms += [value, urllib.parse.quote(value, safe=""), urllib.parse.unquote(value)]
    if password:
        pair = f"{urllib.parse.unquote(login)}:{urllib.parse.unquote(password)}"
        forms.append(base64.b64encode(pair.encode()).decode())
    output.register_secrets([form for form in forms if form])
