"""The buildpack's CNB layers (Buildpack API 0.10, "Layer Types", "Reusing
Layers", "Layer Content Metadata (TOML)").

Before a rebuild the lifecycle restores `<layers>/<name>.toml` without its
`[types]` table, and, for a cached layer, the `<layers>/<name>/` directory.
A layer is reused as it is when its metadata says it was made from the same
inputs by this buildpack version; otherwise it is replaced, and the log says
why.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_buildpack.cnb import toml_files

# Buildpack API 0.10, "Build": these names are the lifecycle's own files.
RESERVED_NAMES = ("build", "launch", "store")


@dataclass(frozen=True)
class Layer:
    layers_dir: Path
    name: str

    @property
    def path(self) -> Path:
        return self.layers_dir / self.name

    @property
    def metadata_file(self) -> Path:
        return self.layers_dir / f"{self.name}.toml"

    def previous_metadata(self) -> dict[str, Any] | None:
        """What the lifecycle restored from the previous build, if anything."""
        found = toml_files.read(self.metadata_file)
        metadata = found.get("metadata") if found else None
        return metadata if isinstance(metadata, dict) else None

    def write_metadata(self, metadata: Mapping[str, Any], *, launch: bool, cache: bool,
                       build: bool = False) -> None:
        types = {"launch": launch, "build": build, "cache": cache}
        toml_files.write(self.metadata_file, {"types": types, "metadata": dict(metadata)})

    def replace_with(self, tree: Path) -> None:
        """The layer's directory becomes `tree` (moved: on one file system a rename)."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.layers_dir.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tree), str(self.path))


def why_not_reusable(previous: Mapping[str, Any] | None, wanted: Mapping[str, Any],
                     restored: bool) -> str | None:
    """None when the previous layer holds what this build would put there;
    otherwise why it is replaced (the first difference that matters)."""
    if previous is None or not restored:
        return "there is no such layer from an earlier build"
    old_version, new_version = previous.get("buildpack_version"), wanted.get("buildpack_version")
    if old_version != new_version:
        return f"it was made by buildpack version {old_version}; this is {new_version}"
    old_python, new_python = previous.get("python_version"), wanted.get("python_version")
    if old_python != new_python:
        return f"it holds Python {old_python}; this build uses Python {new_python}"
    for key in sorted(set(previous) | set(wanted)):
        if previous.get(key) != wanted.get(key):
            return f"its {key.replace('_', ' ')} changed"
    return None
