"""Heroku's build hooks: `bin/pre_compile` and `bin/post_compile` in the app.

They run as leanengine.yaml's `install:` and `build:` commands run: in the
app's root, with the same environment (the app's variables only with
exposeEnvironmentsOnBuild), output redacted, and the same failure codes.
The order of a build: bin/pre_compile, the install step (leanengine.yaml's
`install:`), nltk.txt's corpora, leanengine.yaml's `build:`, collectstatic,
bin/post_compile.
pre_compile runs on every build, before the install step's cache decision,
so that what it writes into the app is what gets installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from python_buildpack.reporting import errors, output
from python_buildpack.support import app_files, commands

PRE_COMPILE = "bin/pre_compile"
POST_COMPILE = "bin/post_compile"
# The leanengine.yaml key that does the same, named in the log.
_EQUIVALENT = {PRE_COMPILE: "install:", POST_COMPILE: "build:"}
_STEP = {PRE_COMPILE: "install", POST_COMPILE: "build"}


def has_hook(name: str, app_dir: Path) -> bool:
    return app_files.app_file(app_dir, name) is not None


def run_hook(name: str, app_dir: Path, env: Mapping[str, str]) -> bool:
    """Run the hook when the app has it; whether it ran."""
    path = app_files.app_file(app_dir, name)
    if path is None:
        return False
    output.heading(f"Running {name}")
    output.info(f"Heroku's hook; on LeanEngine the same goes in leanengine.yaml `{_EQUIVALENT[name]}`")
    # A hook uploaded without its executable bit (a zip, Windows) runs with bash.
    argv = [str(path)] if os.access(path, os.X_OK) else ["bash", str(path)]
    try:
        commands.run(argv, env=env, cwd=app_dir)
    except commands.CommandFailed as failure:
        raise errors.hook_failed(_STEP[name], name, failure.exit_code) from failure
    except OSError as exc:  # e.g. a #! line naming an interpreter the build image lacks
        raise errors.hook_failed(_STEP[name], name, 126, str(exc)) from None
    return True
