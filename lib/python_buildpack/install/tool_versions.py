"""The build tools pinned per Python line (data/tools.yaml)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import yaml
from packaging.version import InvalidVersion, Version

# The ASGI server, added after the install step for ASGI apps (app_servers):
# an in-place update keeps them, since the install step does not know the kind.
ASGI_SERVER_PROJECTS = ("uvicorn", "uvicorn-worker")


@dataclass(frozen=True)
class ToolVersions:
    pip: str
    setuptools: str | None
    wheel: str | None
    gunicorn: str
    uvicorn: str | None = None  # None: no ASGI server for the line (2.7 has no async)
    uvicorn_worker: str | None = None  # None: uvicorn's own gunicorn worker

    def server_requirement(self) -> str:
        return f"gunicorn=={self.gunicorn}"

    def asgi_server_requirements(self) -> list[str]:
        pins = {"uvicorn": self.uvicorn, "uvicorn-worker": self.uvicorn_worker}
        return [f"{name}=={version}" for name, version in pins.items() if version]

    def asgi_worker_class(self) -> str:
        return "uvicorn_worker.UvicornWorker" if self.uvicorn_worker else "uvicorn.workers.UvicornWorker"

    def companion_requirements(self, named: set[str]) -> list[str]:
        """setuptools and wheel for the app's pip run, unless the app names them."""
        pins = {"setuptools": self.setuptools, "wheel": self.wheel}
        return [f"{name}=={version}" for name, version in pins.items() if version and name not in named]

    def companions_go_first(self) -> bool:
        """pip before 22.1 runs a legacy project's setup.py in the target
        environment (no isolated build when setuptools is missing), so on those
        lines setuptools and wheel must be installed before the requirements."""
        return Version(self.pip) < Version("22.1")

    def pip_is_too_old(self, installed: str | None) -> bool:
        try:
            return installed is None or Version(installed) < Version(self.pip)
        except InvalidVersion:
            return True


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, dict[str, str | None]]:
    text = resources.files("python_buildpack.install").joinpath("data/tools.yaml").read_text()
    table: dict[str, dict[str, str | None]] = yaml.safe_load(text)
    return table


def tools_for(python_version: str) -> ToolVersions:
    line = ".".join(python_version.split(".")[:2])
    table = _table()
    return ToolVersions(**table.get(line, table["default"]))  # type: ignore[arg-type]
