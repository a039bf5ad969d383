"""The web process: the default WSGI server setup, or the app's `run:` command."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import yaml

from python_buildpack import leanengine_yaml

SLUG_DIR = ".lean"
SERVER_CONFIG = f"{SLUG_DIR}/gunicorn.conf.py"
WSGI_SHIM = f"{SLUG_DIR}/wsgi/leanengine_wsgi.py"
DEFAULT_WEB_COMMAND = f"gunicorn --config {SERVER_CONFIG} leanengine_wsgi:application"


def web_command(run_command: str | None) -> str:
    return run_command or DEFAULT_WEB_COMMAND


def write_server_files(app_dir: Path) -> None:
    """Put the default server's config and the WSGI shim into the slug."""
    data = resources.files("python_buildpack").joinpath("data")
    for source, target in (("gunicorn.conf.py", SERVER_CONFIG), ("leanengine_wsgi.py", WSGI_SHIM)):
        destination = app_dir / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        with resources.as_file(data.joinpath(source)) as path:
            shutil.copyfile(path, destination)


def release_document(app_dir: Path) -> str:
    config = leanengine_yaml.load(app_dir)
    return yaml.safe_dump(
        {"default_process_types": {"web": web_command(config.run)}},
        default_flow_style=False,
        sort_keys=False,
    )
