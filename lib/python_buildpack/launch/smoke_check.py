"""The smoke check: start the built web command once, as the platform will,
and see it answer before the version is released.

The app gets a free port in LEANCLOUD_APP_PORT, placeholder LEANCLOUD_* values
and its own variables, the slug's .profile.d, and `bash -c` in the slug root.
It passes when `/` or `/__engine/1/ping` answers 2xx within startupTimeout; it
is stopped with SIGTERM, as the platform stops it, and the result says how it
went: an app that ignores SIGTERM makes every stop on the platform wait for the
SIGKILL 10 s later.
"""

from __future__ import annotations

import contextlib
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
# A refused connection costs microseconds, so the port is tried often while the
# app boots (the answer comes as soon as it listens); an app that is listening
# but answers badly is asked less often.
_NOT_LISTENING = "not listening (ConnectionRefusedError)"
_RETRY_NOT_LISTENING = 0.01
_RETRY_LISTENING = 0.1
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
    stopped: commands.Stopped


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
        answered, loopback_only = time.monotonic() - started, _listens_on_loopback_only(port)
    finally:
        stopped = _stop(process, port)
    return SmokeResult(path, status, answered, loopback_only, stopped)


def _stop(process: subprocess.Popen[bytes], port: int) -> commands.Stopped:
    """SIGTERM, and the verdict is already made: once the app no longer listens
    it is shutting down, with no request of ours in flight, so the rest of its
    graceful shutdown is not waited for."""
    listening = _listening_sockets(port)
    return commands.stop_group(
        process, _STOP_GRACE_SECONDS, wake=lambda: _wake(port),
        serving=lambda: _listening_sockets(port) != {},
        serves=lambda pid: listening is None or commands.holds_socket(pid, listening))


def _wake(port: int) -> None:
    """Connect once and hang up. gunicorn's gthread worker (the default server's)
    looks at its SIGTERM flag only when its 1 s poll of the listening socket
    returns; a connection ends that poll at once. Nothing is sent: no request is
    served or logged, and the platform's graceful timeout stays as it is."""
    with contextlib.suppress(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()


def _wait_for_answer(process: subprocess.Popen[bytes], port: int, timeout: float, log: Path
                     ) -> tuple[str, int]:
    deadline = time.monotonic() + timeout
    failing_since: float | None = None
    seen: dict[str, str] = {}
    while time.monotonic() < deadline:
        exit_code = process.poll()
        if exit_code is not None:
            raise errors.smoke_check_exited(exit_code, _tail(log))
        answered = _ask(port, seen)
        if answered is not None:
            return answered
        if all(answer.isdigit() for answer in seen.values()):
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > _ERRORS_FOR_SECONDS:
                raise errors.smoke_check_bad_status(seen, _tail(log))
        else:
            failing_since = None
        listening = any(answer != _NOT_LISTENING for answer in seen.values())
        time.sleep(_RETRY_LISTENING if listening else _RETRY_NOT_LISTENING)
    raise errors.smoke_check_no_answer(timeout, seen, _tail(log))


def _ask(port: int, seen: dict[str, str]) -> tuple[str, int] | None:
    """Each path in turn, each answer into seen; the first 2xx answer."""
    for path in PROBED_PATHS:
        seen[path] = answer = _get(port, path)
        if answer == _NOT_LISTENING:
            # That is the port's answer, whatever the path; asking the next
            # path could find the port just opened and prefer it to /.
            seen.update(dict.fromkeys(PROBED_PATHS, answer))
            return None
        if answer.isdigit() and 200 <= int(answer) < 300:
            return path, int(answer)
    return None


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
    addresses = (_listening_sockets(port) or {}).values()
    return bool(addresses) and all(address in _LOOPBACK for address in addresses)


def _listening_sockets(port: int) -> dict[str, str] | None:
    """The sockets listening on port, inode to address; None when /proc/net/tcp
    cannot be read."""
    sockets, tables_read = {}, 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        tables_read += 1
        for row in rows:
            fields = row.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] == _LISTEN and int(hex_port, 16) == port:
                sockets[fields[9]] = address
    return sockets if tables_read else None


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
