"""What `application` is: WSGI, ASGI 3 or Tornado. The kind decides the server.

Found for real, as the functionsMode check is: the app's own Python imports
the entry module in the app's root with placeholder platform variables
(data/probe_app.py, Python 2 compatible) and looks at the object itself. An
object of no kind fails the build, saying what it is and what is required.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from python_buildpack.launch import sdk_check
from python_buildpack.reporting import errors
from python_buildpack.runtime.python_runtime import InstalledRuntime
from python_buildpack.support import commands

KINDS = {"wsgi": "WSGI", "asgi": "ASGI 3", "tornado": "Tornado"}
SERVERS = {"wsgi": "gunicorn", "asgi": "gunicorn with uvicorn workers", "tornado": "Tornado's HTTPServer"}


@dataclass(frozen=True)
class AppKind:
    kind: str  # a key of KINDS
    entry: str  # wsgi.py or asgi.py
    found: str  # what `application` is, e.g. "an instance of fastapi.applications.FastAPI"
    worker_class: str | None = None  # gunicorn's, for ASGI apps

    @property
    def label(self) -> str:
        return KINDS[self.kind]

    @property
    def module(self) -> str:
        return self.entry.removesuffix(".py")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def from_dict(value: object) -> AppKind | None:
    """An AppKind read back (the cache, .lean/web-app.json); None when it is not one."""
    if not isinstance(value, dict) or value.get("kind") not in KINDS:
        return None
    try:
        return AppKind(**value)
    except TypeError:
        return None


@dataclass(frozen=True)
class ImportFailed:
    reason: str  # the exception, one line: the smoke check shows the app's own output


def inspect_application(runtime: InstalledRuntime, app_dir: Path, entry: str, env: Mapping[str, str]
                        ) -> AppKind | ImportFailed:
    probe = resources.files("python_buildpack.launch").joinpath("data/probe_app.py")
    # No .pyc in the app: the smoke check keys on its files.
    probe_env = {**env, **sdk_check.PLACEHOLDER_PLATFORM_ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    module = entry.removesuffix(".py")
    with resources.as_file(probe) as path:
        try:
            printed = commands.capture([str(runtime.python), str(path), module], env=probe_env, cwd=app_dir)
        except commands.CommandFailed as failure:  # the app killed the interpreter (os._exit, a crash)
            return ImportFailed(failure.tail[-1] if failure.tail else f"exit code {failure.exit_code}")
    return _read_verdict(json.loads(printed.strip().splitlines()[-1]), entry)


def _read_verdict(verdict: dict[str, str], entry: str) -> AppKind | ImportFailed:
    kind, found = verdict["kind"], verdict["found"]
    if kind == "import-failed":
        return ImportFailed(found)
    if kind == "invalid":
        if verdict.get("problem") == "asgi-arity":
            raise errors.asgi_wrong_arity(entry, found)
        raise errors.not_an_application(entry, found)
    return AppKind(kind, entry, found)
