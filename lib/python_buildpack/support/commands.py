"""The only module that starts subprocesses.

`run` sends a command's output to the build log (the step's log file, and the
console when logs are printed live) and keeps its tail for error summaries;
`capture` returns a short command's output; `start_in_background` and
`stop_group` run a server (the smoke check's) and say how it stopped.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.reporting import output

_TAIL_LINES = 200


class CommandFailed(Exception):
    def __init__(self, argv: Sequence[str], exit_code: int, tail: list[str]) -> None:
        super().__init__(f"{shlex.join(argv)} exited with {exit_code}")
        self.argv = list(argv)
        self.exit_code = exit_code
        self.tail = tail


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path | None = None,
    echo: bool = True,
) -> list[str]:
    """Run a command, streaming its output; raise CommandFailed on non-zero exit."""
    tail: collections.deque[str] = collections.deque(maxlen=_TAIL_LINES)
    with subprocess.Popen(
        list(argv),
        env=dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    ) as process:
        for line in process.stdout or ():
            tail.append(line.rstrip("\n"))
            if echo:
                output.subprocess_line(line)
        exit_code = process.wait()
    if exit_code != 0:
        if echo:
            output.hidden_output_tail(list(tail))
        raise CommandFailed(argv, exit_code, list(tail))
    return list(tail)


def capture(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
            cwd: Path | None = None) -> str:
    """Run a short command and return its stdout; raise CommandFailed on failure."""
    result = subprocess.run(
        list(argv),
        env=None if env is None else dict(env),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
    )
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).splitlines()
        raise CommandFailed(argv, result.returncode, lines[-_TAIL_LINES:])
    return result.stdout


def start_in_background(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path,
                        log: Path) -> subprocess.Popen[bytes]:
    """Start a long-running command in its own process group, output to log."""
    with open(log, "wb") as sink:
        return subprocess.Popen(list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)


# How a process group ended after SIGTERM (Stopped.how).
EXITED = "exited"  # the leader exited by itself
STOPPED_SERVING = "stopped-serving"  # it was shutting down (serving() turned false); killed
IGNORES_SIGTERM = "ignores-sigterm"  # a serving process had SIGTERM ignored (SIG_IGN); killed
OUTLIVED_GRACE = "outlived-grace"  # still running when the grace ran out; killed
_SIGTERM_BIT = 1 << (signal.SIGTERM - 1)  # in /proc/PID/status signal masks
_TICK = 0.01
_LOOK_EVERY = 0.02  # serving() may be dear: reading /proc/net/tcp takes milliseconds
# A process with SIGTERM ignored may still be stopped some other way by the rest
# of its group (a supervisor sending SIGINT, say): it gets that long.
_IGNORING_GRACE = 0.15


@dataclass(frozen=True)
class Stopped:
    how: str
    seconds: float  # from SIGTERM until the group was gone


def stop_group(process: subprocess.Popen[bytes], grace_seconds: float, *,
               serving: Callable[[], bool] = lambda: True,
               serves: Callable[[int], bool] = lambda pid: True,
               wake: Callable[[], None] = lambda: None) -> Stopped:
    """SIGTERM the process group, as the platform stops an app, then SIGKILL it:
    within 0.15 s when a process of it that serves(pid) ignores SIGTERM (it
    never sees the signal: the platform would wait out its grace), as soon as
    serving() turns false (it is shutting down), else after grace_seconds.
    wake() runs right after the SIGTERM, to rouse a server that only looks at
    its flags between polls."""
    # Only the serving processes count: helpers that ignore SIGTERM on purpose
    # and end with their parent (multiprocessing's resource tracker, which
    # uvicorn --workers starts) do not keep a stopped app running.
    ignoring = [pid for pid in group_members(process.pid) if ignores_sigterm(pid) and serves(pid)]
    started = time.monotonic()
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        process.wait()
        return Stopped(EXITED, 0.0)
    wake()
    how = _wait_for_exit(process, started, grace_seconds, ignoring, serving)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # what is left, or stragglers of an exited leader
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5.0)
    return Stopped(how, time.monotonic() - started)


def _wait_for_exit(process: subprocess.Popen[bytes], started: float, grace_seconds: float,
                   ignoring: list[int], serving: Callable[[], bool]) -> str:
    next_look = started
    while True:
        now, exited = time.monotonic(), process.poll() is not None
        if (exited or now >= started + _IGNORING_GRACE) and any(map(is_alive, ignoring)):
            return IGNORES_SIGTERM
        if exited:
            return EXITED
        if now >= next_look:
            # Measured on gunicorn: its worker closes the port 10 ms after SIGTERM,
            # then tears its interpreter down for 0.1 s, and the arbiter notices
            # at its next 0.1 s sleep; none of that is the check's business.
            next_look = now + _LOOK_EVERY
            if not serving():  # an exiting process closes its port first
                return EXITED if process.poll() is not None else STOPPED_SERVING
        if now >= started + grace_seconds:
            return OUTLIVED_GRACE
        time.sleep(_TICK)


def group_members(pgid: int) -> list[int]:
    """The live processes of process group pgid (from /proc; none without it)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


def ignores_sigterm(pid: int) -> bool:
    return bool(int(_status_field(pid, "SigIgn") or "0", 16) & _SIGTERM_BIT)


def holds_socket(pid: int, inodes: Collection[str]) -> bool:
    """True when pid has one of these sockets open (inodes as /proc/net/tcp lists them)."""
    wanted = {f"socket:[{inode}]" for inode in inodes}
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}") in wanted:
                return True
    return False


def is_alive(pid: int) -> bool:
    """True while pid runs (a zombie has exited: it only waits for its parent)."""
    state = _status_field(pid, "State")
    return state is not None and not state.startswith("Z")


def _status_field(pid: int, name: str) -> str | None:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition(":")
        if key == name:
            return value.strip()
    return None
