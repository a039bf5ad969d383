"""The web process: the default WSGI server setup, or the app's `run:` command,
and the release metadata bin/release prints."""

from __future__ import annotations

import shlex
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from python_buildpack.analysis import app_source, leanengine_yaml
from python_buildpack.analysis.leanengine_yaml import LeanEngineConfig
from python_buildpack.support.slug_layout import SLUG_DIR

SERVER_CONFIG = f"{SLUG_DIR}/gunicorn.conf.py"
WSGI_SHIM = f"{SLUG_DIR}/wsgi/leanengine_wsgi.py"
DEFAULT_WEB_COMMAND = f"gunicorn --config {SERVER_CONFIG} leanengine_wsgi:application"
# In a buildRoot the command runs from the subdirectory; the slug root is $HOME.
DEFAULT_WEB_COMMAND_IN_SUBDIR = 'gunicorn --config "$HOME/' + SERVER_CONFIG + '" leanengine_wsgi:application'


def build_root_of(build_dir: Path, app_dir: Path) -> str | None:
    relative = app_dir.resolve().relative_to(build_dir.resolve())
    return None if str(relative) == "." else relative.as_posix()


def web_command(config: LeanEngineConfig, build_root: str | None = None) -> str:
    if build_root is None:
        return config.run or DEFAULT_WEB_COMMAND
    return f"cd {shlex.quote(build_root)} && {config.run or DEFAULT_WEB_COMMAND_IN_SUBDIR}"


def write_server_files(slug_root: Path) -> None:
    """Put the default server's config and the WSGI shim into the slug."""
    data = resources.files("python_buildpack.launch").joinpath("data")
    for source, target in (("gunicorn.conf.py", SERVER_CONFIG), ("leanengine_wsgi.py", WSGI_SHIM)):
        destination = slug_root / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        with resources.as_file(data.joinpath(source)) as path:
            shutil.copyfile(path, destination)


def release_document(build_dir: Path) -> str:
    app_dir, config = app_source.resolve_build_root(build_dir, leanengine_yaml.load(build_dir))
    document: dict[str, Any] = {
        "default_process_types": {"web": web_command(config, build_root_of(build_dir, app_dir))},
        # Carried to the platform: its health check and function routing read these.
        "leanengine": {
            "startupTimeout": int(config.startup_timeout) if config.startup_timeout.is_integer()
            else config.startup_timeout,
            "functionsMode": config.functions_mode,
        },
    }
    if config.functions_mode is None:
        del document["leanengine"]["functionsMode"]
    return yaml.safe_dump(document, default_flow_style=False, sort_keys=False)
