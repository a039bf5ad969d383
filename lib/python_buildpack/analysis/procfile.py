"""Heroku's Procfile: without a `run:` in leanengine.yaml, its `web:` line is
the web command (Heroku's convention, beyond the platform's own rule), and its
other process types go into bin/release's `default_process_types`.

The command is used as written: `$PORT` is this platform's port at run time,
because .profile.d/python.sh and the image's launcher set PORT to
$LEANCLOUD_APP_PORT. `processes` is pure; `read_processes` reads the file with
the same care as the build's other inputs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.reporting import errors
from python_buildpack.support import app_files

FILE_NAME = "Procfile"
# A Procfile is a few lines.
_MAX_BYTES = 64 * 1024
# Heroku's process line: `name: command`.
_PROCESS = re.compile(r"(?P<name>[A-Za-z0-9_-]+):\s*(?P<command>\S.*)")
# $PORT and ${PORT...}, but not $PORTS or $PORT_X: other variables.
_PORT = re.compile(r"\$(\{?)PORT\b")


@dataclass(frozen=True)
class Process:
    """One `name: command` line of a Procfile."""

    name: str
    command: str
    line_number: int

    @property
    def uses_port(self) -> bool:
        return _PORT.search(self.command) is not None


def processes(text: str) -> list[Process]:
    """Every process of a Procfile's text, in file order, the first of each name."""
    found: dict[str, Process] = {}
    # Editors on Windows start files with a byte order mark.
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        match = _PROCESS.fullmatch(line.strip())
        if match and not line.lstrip().startswith("#"):
            found.setdefault(match["name"], Process(match["name"], match["command"].strip(), number))
    return list(found.values())


def read_processes(app_dir: Path) -> list[Process]:
    data = app_files.read_app_file(app_dir, FILE_NAME, _MAX_BYTES)
    if data is None:
        return []
    if len(data) > _MAX_BYTES:
        raise errors.procfile_unreadable(f"it is larger than {_MAX_BYTES // 1024} KiB")
    try:
        return processes(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise errors.procfile_unreadable(f"it is not UTF-8 text (byte {exc.start})") from None


def web(found: list[Process]) -> Process | None:
    return next((process for process in found if process.name == "web"), None)
