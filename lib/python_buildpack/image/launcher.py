"""The launch layer: an init and a launcher that start the web process the way
LeanEngine did.

The init is dumb-init (Yelp's, from its PyPI wheel, which the buildpack's own
tools install: requirements/buildpack.txt). PID 1 does not get default-action
signals, so a bare `python app.py` as PID 1 would never stop on SIGTERM;
dumb-init runs the launcher in a new session and forwards every signal to its
whole process group, and reaps orphans. Debian's tini would do as well, but a
slim base does not have it, and the wheel ships a ready binary (18 KB, glibc
2.12+), so no base needs anything installed.

The launcher (bash, which every Debian base has) does what the platform does:
HOME=/app; LEANCLOUD_APP_PORT from PORT when only that is set (Cloud Run,
Render, Heroku and Fly set PORT), else 3000; sources .profile.d/*.sh; runs the
release's web command with `bash -c` in /app. Arguments given to the container
(`podman run IMAGE python manage.py migrate`) run instead of the web command,
in the same environment.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from python_buildpack.image.layers import IMAGE_DIR, LaunchFile
from python_buildpack.support import buildpack_tools

DEFAULT_PORT = 3000
INIT = f"/app/{IMAGE_DIR}/dumb-init"
LAUNCHER = f"/app/{IMAGE_DIR}/launch"
ENTRYPOINT = [INIT, "--", LAUNCHER]

_SCRIPT = """\
#!/bin/bash
# Written by the LeanEngine Python buildpack (bin/image): starts the app as LeanEngine did.
export HOME=/app
if [ -z "${{LEANCLOUD_APP_PORT:-}}" ]; then
  export LEANCLOUD_APP_PORT="${{PORT:-{port}}}"
fi
cd /app || exit 1
for profile in .profile.d/*.sh; do
  if [ -r "$profile" ]; then . "$profile"; fi
done
if [ "$#" -gt 0 ]; then
  exec "$@"
fi
exec bash -c {command}
"""


def launcher_script(web_command: str) -> str:
    return _SCRIPT.format(port=DEFAULT_PORT, command=shlex.quote(web_command))


def init_binary() -> Path | None:
    """dumb-init from the buildpack's own tools (requirements/buildpack.txt)."""
    candidate = buildpack_tools.program("dumb-init")
    return candidate if candidate.is_file() else None


def launch_files(web_command: str, init: Path) -> list[LaunchFile]:
    return [
        LaunchFile(f"{IMAGE_DIR}/dumb-init", init.read_bytes(), executable=True),
        LaunchFile(f"{IMAGE_DIR}/launch", launcher_script(web_command).encode(), executable=True),
    ]
