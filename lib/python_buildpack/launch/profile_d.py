"""`.profile.d/python.sh`: the run-time environment of the slug.

The platform sources it with HOME set to the slug root, wherever the slug was
moved, so every path is relative to $HOME.
"""

from __future__ import annotations

from pathlib import Path

from python_buildpack.support.slug_layout import SLUG_DIR

SCRIPT = """\
# Written by the LeanEngine Python buildpack.
export PATH="$HOME/{slug_dir}/python/bin:$PATH"
# Logs are collected from stdout/stderr: never let Python buffer them.
export PYTHONUNBUFFERED=1
export PYTHONIOENCODING="${{PYTHONIOENCODING:-UTF-8}}"
export LANG="${{LANG:-C.UTF-8}}"
# Packages live in the runtime's own site-packages, not in ~/.local.
export PYTHONNOUSERSITE=1
# Heroku-style commands (a Procfile's web line) listen on $PORT: the platform's port.
if [ -n "${{LEANCLOUD_APP_PORT:-}}" ]; then export PORT="$LEANCLOUD_APP_PORT"; fi
"""


def write_profile(app_dir: Path) -> Path:
    directory = app_dir / ".profile.d"
    directory.mkdir(exist_ok=True)
    path = directory / "python.sh"
    path.write_text(SCRIPT.format(slug_dir=SLUG_DIR))
    return path
