"""The smoke check: start the built web command once, as the platform will,
and see it answer before the version is released.

The app gets a free port in LEANCLOUD_APP_PORT, placeholder LEANCLOUD_* values
and its own variables, the slug's .profile.d, and `bash -c` in the slug root.
It passes when `/` or `/__engine/1/ping` answers 2xx within startupTimeout; it
is stopped with SIGTERM, as the platform stops it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.launch import sdk_check
from python_buildpack.reporting import errors
from python_buildpack.support import commands

PROBED_PATHS = ("/", "/__engine/1/ping")
# An app answering only errors for this long is not warming up: it is broken.
_ERRORS_FOR_SECONDS = 3.0
_REQUEST_TIMEOUT = 2.0
_STOP_GRACE_SECONDS = 10.0
_LOG_LINES_SHOWN = 30
# /proc/net/tcp{,6} addresses of 127.0.0.1 and ::1, and the LISTEN state.
_LOOPBACK = {"0100007F", "00000000000000000000000001000000"}
_LISTEN = "0A"


@dataclass(frozen=True)
class SmokeResult:
    path: str
    status: int
    seconds: float
    loopback_only: bool


def run(slug_root: Path, web_command: str, app_env: Mapping[str, str], timeout: float,
        log: Path) -> SmokeResult:
    port = _free_port()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", **app_env,
           **sdk_check.PLACEHOLDER_PLATFORM_ENV, "HOME": str(slug_root), "LEANCLOUD_APP_PORT": str(port)}
    script = 'for f in .profile.d/*.sh; do [ -r "$f" ] && . "$f"; done; exec bash -c "$0"'
    started = time.monotonic()
    process = commands.start_in_background(["bash", "-c", script, web_command], env=env,
                                           cwd=slug_root, log=log)
    try:
        path, status = _wait_for_answer(process, port, timeout, log)
        loopback_only = _listens_on_loopback_only(port)
        return SmokeResult(path, status, time.monotonic() - started, loopback_only)
    finally:
        commands.stop_group(process, _STOP_GRACE_SECONDS)


def _wait_for_answer(process: subprocess.Popen[bytes], port: int, timeout: float, log: Path
                     ) -> tuple[str, int]:
    deadline = time.monotonic() + timeout
    failing_since: float | None = None
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        exit_code = process.poll()
        if exit_code is not None:
            raise errors.smoke_check_exited(exit_code, _tail(log))
        for path in PROBED_PATHS:
            seen[path] = answer = _get(port, path)
            if answer.isdigit() and 200 <= int(answer) < 300:
                return path, int(answer)
        if all(answer.isdigit() for answer in seen.values()):
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > _ERRORS_FOR_SECONDS:
                raise errors.smoke_check_bad_status(seen, _tail(log))
        else:
            failing_since = None
        time.sleep(0.1)
    raise errors.smoke_check_no_answer(timeout, seen, _tail(log))


def _get(port: int, path: str) -> str:
    """The HTTP status as text, or why there was none."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=_REQUEST_TIMEOUT)
    try:
        connection.request("GET", path, headers={"User-Agent": "LeanEngine-build-smoke-check"})
        return str(connection.getresponse().status)
    except (OSError, http.client.HTTPException) as exc:
        return "no answer" if isinstance(exc, TimeoutError) else f"not listening ({type(exc).__name__})"
    finally:
        connection.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _listens_on_loopback_only(port: int) -> bool:
    """True when every socket listening on port is bound to 127.0.0.1 or ::1, so
    the platform's router, which connects from outside, would not reach it."""
    addresses = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] == _LISTEN and int(hex_port, 16) == port:
                addresses.append(address)
    return bool(addresses) and all(address in _LOOPBACK for address in addresses)


def _tail(log: Path) -> list[str]:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    return lines[-_LOG_LINES_SHOWN:]


def input_digest(app_dir: Path, install_digest: str, web_command: str, app_env: Mapping[str, str],
                 limit_bytes: int = 200_000_000) -> str | None:
    """A digest of what the check depends on (every file of the app, the installed
    dependencies' key, the command, the variables), or None for apps too big to hash."""
    digest = hashlib.sha256(json.dumps([install_digest, web_command, sorted(app_env.items())]).encode())
    total = 0
    for directory, subdirs, files in os.walk(app_dir):
        subdirs[:] = sorted(name for name in subdirs if name not in (".lean", ".profile.d", ".git"))
        for name in sorted(files):
            path = Path(directory) / name
            if path.is_symlink() or not path.is_file():
                continue
            total += path.stat().st_size
            if total > limit_bytes:
                return None
            digest.update(str(path.relative_to(app_dir)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
