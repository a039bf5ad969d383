"""Heroku's Procfile, read only to help: this platform starts the `run:`
command of leanengine.yaml and never a Procfile (supporting it is a later
issue), so an app that came with one is shown the `run:` line to write.

`web_process` is pure; `read_web_process` reads the file with the same care
as the build's other inputs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "Procfile"
# A Procfile is a few lines; the rest of a huge one is not worth reading for a hint.
_MAX_BYTES = 64 * 1024
# Heroku's process line: `name: command`.
_PROCESS = re.compile(r"(?P<name>[A-Za-z0-9_-]+):\s*(?P<command>\S.*)")
# $PORT and ${PORT...}, but not $PORTS or $PORT_X: other variables.
_PORT = re.compile(r"\$(\{?)PORT\b")


@dataclass(frozen=True)
class WebProcess:
    """The Procfile's `web:` line, and the leanengine.yaml line that does its work."""

    line_number: int
    line: str
    command: str
    run: str  # the command with the platform's port variable

    @property
    def run_line(self) -> str:
        """`run: ...` as YAML, quoted where the command needs it, never folded."""
        import yaml  # noqa: PLC0415 -- only for the warning: detect and image read Procfiles without it

        return yaml.safe_dump({"run": self.run}, width=math.inf, allow_unicode=True).rstrip("\n")


def web_process(text: str) -> WebProcess | None:
    """The first `web:` process of a Procfile's text, None when it has none."""
    # Editors on Windows start files with a byte order mark.
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        match = _PROCESS.fullmatch(line.strip())
        if match and match["name"] == "web":
            command = match["command"].strip()
            run = _PORT.sub(r"$\1LEANCLOUD_APP_PORT", command)
            return WebProcess(number, line.strip(), command, run)
    return None


def read_web_process(app_dir: Path) -> WebProcess | None:
    path = app_dir / FILE_NAME
    # A link or special file is not read (it could lead out of the app); it
    # only costs the user the hint.
    if path.is_symlink() or not path.is_file():
        return None
    with open(path, "rb") as handle:
        data = handle.read(_MAX_BYTES)
    return web_process(data.decode("utf-8", errors="replace"))
