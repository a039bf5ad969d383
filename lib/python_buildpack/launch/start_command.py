"""The web process: the default server for what `application` is (WSGI, ASGI or
Tornado), or the app's `run:` command, and the release metadata bin/release prints."""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from python_buildpack.analysis import app_source
from python_buildpack.analysis.leanengine_yaml import LeanEngineConfig
from python_buildpack.launch import app_kind
from python_buildpack.launch.app_kind import AppKind
from python_buildpack.support.slug_layout import SLUG_DIR

SERVER_CONFIG = f"{SLUG_DIR}/gunicorn.conf.py"
WSGI_SHIM = f"{SLUG_DIR}/wsgi/leanengine_wsgi.py"
TORNADO_SERVER = f"{SLUG_DIR}/tornado_server.py"
# What the build found `application` to be, for bin/release (written by bin/compile).
WEB_APP_FILE = f"{SLUG_DIR}/web-app.json"
DEFAULT_WEB_COMMAND = f"gunicorn --config {SERVER_CONFIG} leanengine_wsgi:application"
# In a buildRoot the command runs from the subdirectory; the slug root is $HOME.
DEFAULT_WEB_COMMAND_IN_SUBDIR = 'gunicorn --config "$HOME/' + SERVER_CONFIG + '" leanengine_wsgi:application'
_SERVER_FILES = (("gunicorn.conf.py", SERVER_CONFIG), ("leanengine_wsgi.py", WSGI_SHIM),
                 ("tornado_server.py", TORNADO_SERVER))


def build_root_of(build_dir: Path, app_dir: Path) -> str | None:
    relative = app_dir.resolve().relative_to(build_dir.resolve())
    return None if str(relative) == "." else relative.as_posix()


def web_command(config: LeanEngineConfig, build_root: str | None = None, app: AppKind | None = None) -> str:
    command = config.run or default_command(app, in_subdir=build_root is not None)
    return command if build_root is None else f"cd {shlex.quote(build_root)} && {command}"


def default_command(app: AppKind | None, in_subdir: bool = False) -> str:
    """The server for the kind (WSGI when the build did not find one out)."""
    def slug_file(path: str) -> str:
        return f'"$HOME/{path}"' if in_subdir else path

    target = f"{app.module if app else 'wsgi'}:application"
    if app is None or app.kind == "wsgi":
        command = DEFAULT_WEB_COMMAND_IN_SUBDIR if in_subdir else DEFAULT_WEB_COMMAND
        # The WSGI shim serves wsgi:application unless told otherwise.
        return command if target == "wsgi:application" else f"LEANENGINE_WSGI_APP={target} {command}"
    if app.kind == "asgi":
        return f"gunicorn --config {slug_file(SERVER_CONFIG)} --worker-class {app.worker_class} {target}"
    return f"python {slug_file(TORNADO_SERVER)} {target}"


def write_server_files(slug_root: Path, app: AppKind | None) -> None:
    """Put the default servers' files into the slug, and what `application` is."""
    data = resources.files("python_buildpack.launch").joinpath("data")
    for source, target in _SERVER_FILES:
        destination = slug_root / target
        destination.parent.mkdir(parents=True, exist_ok=True)
        with resources.as_file(data.joinpath(source)) as path:
            shutil.copyfile(path, destination)
    record = slug_root / WEB_APP_FILE
    if app is None:
        record.unlink(missing_ok=True)
    else:
        record.write_text(json.dumps(app.as_dict(), indent=1) + "\n")


def read_app_kind(slug_root: Path) -> AppKind | None:
    """What the last build found `application` to be; None before any build
    (bin/release must work on an app never compiled: the WSGI default)."""
    try:
        return app_kind.from_dict(json.loads((slug_root / WEB_APP_FILE).read_text()))
    except (OSError, ValueError):
        return None


def release_document(build_dir: Path) -> str:
    """What bin/release prints: release_facts as YAML."""
    import yaml  # noqa: PLC0415 -- only bin/release writes YAML: bin/image reads the facts without it

    # One line per command, however long: readers of the release grep it too.
    facts = release_facts(build_dir)
    return yaml.safe_dump(facts, default_flow_style=False, sort_keys=False, width=1_000_000)


def release_facts(build_dir: Path) -> dict[str, Any]:
    """The web command and the platform settings of the compiled app in build_dir."""
    app_dir, config = app_source.resolve_config(build_dir)
    app = None if config.run else read_app_kind(build_dir)
    build_root = build_root_of(build_dir, app_dir)
    others = {name: web_command(dataclasses.replace(config, run=command), build_root)
              for name, command in config.other_processes}
    document: dict[str, Any] = {
        # The web command, and the Procfile's other process types (worker, release, ...).
        "default_process_types": {"web": web_command(config, build_root, app), **others},
        # Carried to the platform: its health check and function routing read these.
        "leanengine": {
            "startupTimeout": int(config.startup_timeout) if config.startup_timeout.is_integer()
            else config.startup_timeout,
            "functionsMode": config.functions_mode,
        },
    }
    if config.functions_mode is None:
        del document["leanengine"]["functionsMode"]
    if app is not None:
        document["leanengine"]["appKind"] = app.kind
    return document
