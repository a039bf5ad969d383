"""The run-time environment as CNB layer env files (Buildpack API 0.10,
"Provided by the Buildpacks", "Environment Variable Modification Rules"),
instead of the classic .profile.d scripts: the same variables, as files the
launcher applies without a shell.

The lifecycle already puts `<layer>/bin` on PATH and `<layer>/lib` on
LD_LIBRARY_PATH; the system tree's programs and libraries sit deeper
(usr/bin, usr/lib/x86_64-linux-gnu), so they get files of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from python_buildpack.system import system_tree

# What launch/profile_d.py's script exports, as (file name, value): an
# override is the value, a default applies only when the variable is empty.
PYTHON_LAUNCH_FILES = {
    "PYTHONUNBUFFERED.override": "1",  # logs are collected from stdout/stderr
    "PYTHONNOUSERSITE.override": "1",  # packages live in the runtime, not in ~/.local
    "PYTHONIOENCODING.default": "UTF-8",
    "LANG.default": "C.UTF-8",
}


def write_files(directory: Path, files: Mapping[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in files.items():
        (directory / name).write_text(value)  # no newline: the value is the file's content


def python_launch_env(layer: Path) -> None:
    write_files(layer / "env.launch", PYTHON_LAUNCH_FILES)


def system_launch_files(layer: Path, python_bin: Path,
                        environment: system_tree.TreeEnvironment) -> dict[str, str]:
    """PATH gets the runtime's bin first, then the tree's programs (before the
    image's, whose stand-ins must lose): by the spec's prepend order a later
    layer's files come first, and "system" sorts after "python", so this layer
    names both itself."""
    files: dict[str, str] = {}
    bins = [str(python_bin), *environment.path_entries(layer)]
    files["PATH.prepend"] = ":".join(bins)
    files["PATH.delim"] = ":"
    if environment.library_dirs:
        files["LD_LIBRARY_PATH.prepend"] = ":".join(str(layer / d) for d in environment.library_dirs)
        files["LD_LIBRARY_PATH.delim"] = ":"
    for name, relative in sorted(environment.variables.items()):
        files[f"{name}.override"] = str(layer / relative)
    return files
