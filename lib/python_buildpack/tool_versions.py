"""The build tools pinned per Python line (data/tools.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import yaml


@dataclass(frozen=True)
class ToolVersions:
    pip: str
    setuptools: str
    wheel: str
    gunicorn: str

    def server_requirement(self) -> str:
        return f"gunicorn=={self.gunicorn}"

    def installer_requirements(self) -> list[str]:
        return [f"pip=={self.pip}", f"setuptools=={self.setuptools}", f"wheel=={self.wheel}"]


def _table() -> dict[str, dict[str, str]]:
    text = resources.files("python_buildpack").joinpath("data/tools.yaml").read_text()
    table: dict[str, dict[str, str]] = yaml.safe_load(text)
    return table


def tools_for(python_version: str) -> ToolVersions:
    line = ".".join(python_version.split(".")[:2])
    table = _table()
    return ToolVersions(**table.get(line, table["default"]))
