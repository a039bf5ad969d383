"""The only module that writes to the terminal, in classic buildpack style.

Headings are ``-----> Step``; details are indented seven spaces and each step
ends with its duration; warnings and errors go to stderr prefixed `` !     ``.
Every line goes through `redact`, so values registered as secrets never reach
the log.

Subprocess output (pip, the app's commands) is quiet by default: it goes to the
step's log file, and only a failed command's tail is shown. With
PRINT_BUILD_LOGS it streams live.
"""

from __future__ import annotations

import os
import re
import sys
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from python_buildpack.reporting.errors import REDACTED, BuildpackError, without_credentials

INDENT = "       "
ERROR_PREFIX = " !     "

# Values shorter than this are too likely to occur in ordinary text ("1",
# "true") for redaction to mean anything; secrets are longer.
_MIN_SECRET_LENGTH = 6
_secrets: list[str] = []
_PUBLIC_INDEX_PATHS = ("/simple", "/pypi/simple", "/root/pypi/+simple")


def register_secrets(values: Iterable[str]) -> None:
    """Mark values (e.g. every ENV_DIR value) as never to be printed."""
    for value in values:
        for line in value.splitlines() or [value]:
            for fragment in [line.strip(), *_url_fragments(line.strip())]:
                if len(fragment) >= _MIN_SECRET_LENGTH and fragment not in _secrets:
                    _secrets.append(fragment)
    _secrets.sort(key=len, reverse=True)


def _url_fragments(value: str) -> list[str]:
    """Parts of a URL that tools print on their own (pip logs an index's path
    when it retries, and masks only the password)."""
    parts = urllib.parse.urlsplit(value)
    if not parts.scheme or not parts.netloc:
        return []
    path = parts.path.rstrip("/")
    if path in _PUBLIC_INDEX_PATHS:
        path = ""  # every index has it: no secret, and hiding it garbles every URL in the log
    return [fragment for fragment in (parts.username, parts.password, path, parts.query) if fragment]


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    # Credentials in URLs the tools print (a git requirement's token) are secrets too.
    return without_credentials(text)


def _use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def _write(stream: TextIO, text: str) -> None:
    stream.write(redact(text) + "\n")
    stream.flush()


@dataclass
class _BuildLog:
    live: bool = True  # subprocess output on the console
    directory: Path | None = None  # per-step log files
    step: str | None = None
    step_started: float = 0.0
    step_log: Path | None = None
    durations: list[tuple[str, float]] = field(default_factory=list)
    progress_shown: float = 0.0  # when a download's progress was last drawn


_log = _BuildLog()
_TAIL_SHOWN = 25


def configure_build_log(directory: Path | None, live: bool) -> None:
    """Where step logs go, and whether subprocess output is also shown live."""
    _log.directory, _log.live = directory, live
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)


def heading(text: str, timed: bool = True) -> None:
    """Start a step (ending the previous one); untimed headings are banners."""
    end_step()
    _write(sys.stdout, f"-----> {text}")
    if timed:
        _log.step, _log.step_started, _log.step_log = text, time.monotonic(), None


def end_step(failed: bool = False) -> None:
    """Print how long the current step took."""
    if _log.step is None:
        return
    seconds = time.monotonic() - _log.step_started
    _log.durations.append((_log.step, seconds))
    _write(sys.stdout, f"{INDENT}{'Failed after' if failed else 'Done in'} {seconds:.1f} s")
    _log.step = None


def log_directory() -> Path | None:
    return _log.directory


def step_durations() -> list[tuple[str, float]]:
    return list(_log.durations)


def info(text: str) -> None:
    for line in text.splitlines() or [""]:
        _write(sys.stdout, INDENT + line)


def subprocess_line(line: str) -> None:
    text = redact(line.rstrip("\n"))
    log_file = _step_log_file()
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            with open(log_file, "a", encoding="utf-8", errors="replace") as handle:
                handle.write(text + "\n")
        except OSError:
            # A log file must never fail a build (a full disk, a removed
            # directory): the console gets the output instead.
            _log.directory, _log.live = None, True
    if _log.live:
        _write(sys.stdout, INDENT + text)


def _step_log_file() -> Path | None:
    if _log.directory is None:
        return None
    if _log.step_log is None:
        name = re.sub(r"[^a-z0-9]+", "-", (_log.step or "build").lower()).strip("-")[:40]
        _log.step_log = _log.directory / f"{len(_log.durations) + 1:02d}-{name}.log"
    return _log.step_log


def quiet_only(text: str) -> None:
    """A line that sums up hidden output (pip's "Successfully installed ..."):
    shown when the output itself was not."""
    if not _log.live:
        info(text)


def progress(label: str, done: int, total: int | None) -> None:
    """A download's progress, redrawn in place: only on a terminal."""
    if not sys.stdout.isatty() or time.monotonic() - _log.progress_shown < 0.2:
        return
    _log.progress_shown = time.monotonic()
    share = f"{100 * done // total:3d}% of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
    sys.stdout.write(f"\r{INDENT}Downloading {label}: {share}\033[K")
    sys.stdout.flush()


def progress_done() -> None:
    if sys.stdout.isatty():
        sys.stdout.write("\r\033[K")
        sys.stdout.flush()


def hidden_output_tail(lines: list[str]) -> None:
    """After a failed command in quiet mode: the end of what it printed."""
    if _log.live or not lines:
        return
    where = f" (the whole log: {_log.step_log})" if _log.step_log else ""
    _write(sys.stdout, f"{INDENT}The command failed; its last {min(len(lines), _TAIL_SHOWN)} lines{where}:")
    for line in lines[-_TAIL_SHOWN:]:
        _write(sys.stdout, INDENT + "  " + line)


def warning(title: str, detail: str = "") -> None:
    _block(sys.stderr, "Warning: " + title, detail, colour="33")


def error(err: BuildpackError) -> None:
    body = err.detail
    if err.hint:
        body = f"{body}\n\n{err.hint}" if body else err.hint
    body = f"{body}\n\n[{err.code}]" if body else f"[{err.code}]"
    _block(sys.stderr, "Error: " + err.title, body, colour="31")


def internal_error(traceback_text: str) -> None:
    detail = (
        "This is a bug in the buildpack, not in your app.\n"
        "Please report it to the buildpack's maintainers with this build log and the output of\n"
        "`bin/report BUILD_DIR`; building again with BUILD_NO_CACHE=1 may get past it.\n\n"
        + traceback_text
    )
    _block(sys.stderr, "Internal error: the buildpack failed unexpectedly", detail, colour="31")


def _block(stream: TextIO, title: str, detail: str, colour: str) -> None:
    if _use_colour(stream):
        title = f"\033[1;{colour}m{title}\033[0m"
    _write(stream, "")
    _write(stream, ERROR_PREFIX + title)
    for line in detail.splitlines():
        _write(stream, (ERROR_PREFIX + line).rstrip())
    _write(stream, "")


def plain(text: str) -> None:
    """Machine-readable output (bin/detect, bin/release): no decoration."""
    _write(sys.stdout, text)
