"""The only module that writes to the terminal, in classic buildpack style.

Headings are ``-----> Step``; details and subprocess lines are indented seven
spaces; warnings and errors go to stderr prefixed `` !     ``. Every line goes
through `redact`, so values registered as secrets never reach the log.
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from collections.abc import Iterable
from typing import TextIO

from python_buildpack.errors import BuildpackError

INDENT = "       "
ERROR_PREFIX = " !     "
REDACTED = "[redacted]"

# Values shorter than this are too likely to occur in ordinary text ("1",
# "true") for redaction to mean anything; secrets are longer.
_MIN_SECRET_LENGTH = 6
_secrets: list[str] = []


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
    return [fragment for fragment in (parts.username, parts.password, path, parts.query) if fragment]


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _use_colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def _write(stream: TextIO, text: str) -> None:
    stream.write(redact(text) + "\n")
    stream.flush()


def heading(text: str) -> None:
    _write(sys.stdout, f"-----> {text}")


def info(text: str) -> None:
    for line in text.splitlines() or [""]:
        _write(sys.stdout, INDENT + line)


def subprocess_line(line: str) -> None:
    _write(sys.stdout, INDENT + line.rstrip("\n"))


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
        "Please report it with the build log below.\n\n" + traceback_text
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
