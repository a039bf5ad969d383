"""launch.toml (Buildpack API 0.10, "launch.toml (TOML)"): the release's
processes, `web` the default, and labels that carry what the platform read
from bin/release.

Each command runs the way LeanEngine started it: `bash -c` in the app root with
HOME set to it (the default commands name `$HOME/.lean/...`), and
LEANCLOUD_APP_PORT taken from PORT, which CNB platforms set (8080 without it,
the CNB and Knative default).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

DEFAULT_PORT = 8080
LABEL_PREFIX = "cn.leancloud.engine."

_WRAPPER = (
    "export HOME={app}\n"
    'export LEANCLOUD_APP_PORT="${{LEANCLOUD_APP_PORT:-${{PORT:-{port}}}}}"\n'
    'export PORT="${{PORT:-$LEANCLOUD_APP_PORT}}"\n'
    "exec bash -c {command}\n"
)


def process(kind: str, command: str, app_dir: Path, default: bool) -> dict[str, Any]:
    script = _WRAPPER.format(app=shlex.quote(str(app_dir)), port=DEFAULT_PORT, command=shlex.quote(command))
    return {"type": kind, "command": ["bash", "-c", script], "args": [], "default": default,
            "working-dir": str(app_dir)}


def labels(facts: dict[str, Any], python_version: str) -> list[dict[str, str]]:
    found = {"python-version": python_version, **{k: str(v) for k, v in facts.get("leanengine", {}).items()}}
    return [{"key": LABEL_PREFIX + name, "value": value} for name, value in sorted(found.items())]


def launch_document(app_dir: Path, facts: dict[str, Any], python_version: str) -> dict[str, Any]:
    """facts: launch/start_command.release_facts of the built app."""
    commands: dict[str, str] = facts["default_process_types"]
    return {
        "labels": labels(facts, python_version),
        "processes": [process(kind, command, app_dir, default=kind == "web")
                      for kind, command in commands.items()],
    }
