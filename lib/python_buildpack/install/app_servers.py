"""The server an app's kind needs beyond gunicorn, added after the install step:
what `application` is can only be known once its dependencies are installed.

WSGI apps get gunicorn (the install step adds it); ASGI apps gunicorn with
uvicorn's worker; Tornado apps their own Tornado, which they already have.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.analysis import requirement_files
from python_buildpack.install import pip_install, tool_versions
from python_buildpack.reporting import output
from python_buildpack.runtime.python_runtime import InstalledRuntime


@dataclass(frozen=True)
class AsgiServer:
    worker_class: str  # gunicorn's --worker-class
    added: bool  # installed now: the cached install layer lacks it


def provide_asgi_server(installed: InstalledRuntime, app_dir: Path, pip_env: Mapping[str, str]
                        ) -> AsgiServer:
    """The app's own uvicorn (and uvicorn-worker) when its requirements name them,
    else the versions pinned for its Python line."""
    named = requirement_files.requirement_names(app_dir)
    tools = tool_versions.tools_for(installed.version)
    if "uvicorn-worker" in named:
        output.info("Using the app's own uvicorn-worker as the ASGI server")
        return AsgiServer("uvicorn_worker.UvicornWorker", added=False)
    if "uvicorn" in named:
        # The app's uvicorn may predate what the pinned uvicorn-worker needs:
        # its own worker class serves every release since 0.6 (deprecated, not gone).
        output.info("Using the app's own uvicorn as the ASGI server")
        return AsgiServer("uvicorn.workers.UvicornWorker", added=False)
    pins = tools.asgi_server_requirements()
    worker_class = tools.asgi_worker_class()
    if pip_install.has_module(installed, worker_class.rpartition(".")[0], pip_env):
        # A cached layer restored for a changed app: an earlier build added it.
        output.info("Using the ASGI server of the cached dependencies")
        return AsgiServer(worker_class, added=False)
    pip_install.install_servers(installed, pins, pip_env)
    output.info(f"Added {', '.join(pin.replace('==', ' ') for pin in pins)} as the ASGI server")
    return AsgiServer(worker_class, added=True)
