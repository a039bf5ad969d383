"""The only module that starts subprocesses.

`run` sends a command's output to the build log (the step's log file, and the
console when logs are printed live) and keeps its tail for error summaries;
`capture` returns a short command's output.
"""

from __future__ import annotations

import collections
import contextlib
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping, Sequence
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


def stop_group(process: subprocess.Popen[bytes], grace_seconds: float) -> None:
    """SIGTERM the process group, as the platform stops an app; SIGKILL after grace."""
    for sig, wait in ((signal.SIGTERM, grace_seconds), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # stragglers of an exited leader
