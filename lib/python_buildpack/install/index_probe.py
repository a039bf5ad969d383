"""Why an installer found nothing on a private index: it may have been refused.

pip and uv report a package the index refused to show (401, 403) as a package
that does not exist ("from versions: none"), which sends the user looking for
a typo. After such a failure each of the app's own indexes is asked once, with
the credentials the installer had (from the URL, uv's index variables or the
netrc), for the package's page: a refusal names the host instead.
"""

from __future__ import annotations

import base64
import netrc
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from python_buildpack.support.http_transport import Transport, TransportError

_PUBLIC = ("pypi.org", "files.pythonhosted.org")
_TIMEOUT = 10
# uv gets pip's index settings under its own names (pip_install.uv_environment).
_AS_SET = {"UV_INDEX_URL": "PIP_INDEX_URL or UV_INDEX_URL",
           "UV_EXTRA_INDEX_URL": "PIP_EXTRA_INDEX_URL or UV_EXTRA_INDEX_URL"}


@dataclass(frozen=True)
class Refusal:
    host: str
    status: int
    setting: str  # where the index is configured


def index_urls(env: Mapping[str, str]) -> list[tuple[str, str, str | None]]:
    """(setting, URL, uv index name) of every index the installer's environment names."""
    found = []
    for setting in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL",
                    "UV_DEFAULT_INDEX", "UV_INDEX"):
        for item in env.get(setting, "").split():
            name, _, url = item.rpartition("=") if "=" in item.split("://")[0] else ("", "", item)
            found.append((setting, url, name or None))
    return found


def refusal(env: Mapping[str, str], project: str | None) -> Refusal | None:
    """The first of the app's indexes that refuses the installer's credentials."""
    transport = Transport(None, _TIMEOUT, _TIMEOUT)
    try:
        for setting, url, name in index_urls(env):
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.hostname in _PUBLIC:
                continue
            plain = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
            page = plain.rstrip("/") + "/" + (f"{project}/" if project else "")
            try:
                status = transport.request("GET", page, headers=_authorization(parts, name, env)).status
            except TransportError:
                continue  # unreachable: the installer's own message says so
            if status in (401, 403):
                return Refusal(parts.hostname, status, _AS_SET.get(setting, setting))
        return None
    finally:
        transport.close()


def _authorization(parts: urllib.parse.SplitResult, name: str | None, env: Mapping[str, str]
                   ) -> dict[str, str]:
    login, password = urllib.parse.unquote(parts.username or ""), urllib.parse.unquote(parts.password or "")
    if name and not login:
        prefix = f"UV_INDEX_{name.upper().replace('-', '_')}_"
        login, password = env.get(prefix + "USERNAME", ""), env.get(prefix + "PASSWORD", "")
    if not login and env.get("NETRC") and parts.hostname:
        try:
            entry = netrc.netrc(env["NETRC"]).authenticators(parts.hostname)
        except (OSError, netrc.NetrcParseError):
            entry = None
        if entry:
            login, password = entry[0], entry[2] or ""
    if not login:
        return {}
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}
