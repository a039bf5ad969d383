"""The app's own install and build commands from leanengine.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from python_buildpack.analysis.leanengine_yaml import Command
from python_buildpack.reporting import errors, output
from python_buildpack.support import commands


def run_command(step: str, command: Command, app_dir: Path, env: Mapping[str, str]) -> None:
    """Run one command with bash in the app's root; fail the build if it fails."""
    output.info(f"$ {command.text}")
    try:
        commands.run(["bash", "-c", command.text], env=env, cwd=app_dir)
    except commands.CommandFailed as failure:
        raise errors.command_failed(step, command.text, failure.exit_code) from failure
