"""The build cache in CACHE_DIR: layers keyed by their step's inputs.

Layout of ``CACHE_DIR/python-buildpack``::

    format.json            layer format and machine architecture of this cache
    runtimes/              verified runtime archives (see runtime.py)
    pip/                   pip's own download and wheel cache, kept across invalidations
    layers/install/<key>/  the install step's result: python/ (the runtime with the
                           app's packages), app-files/ (files install commands wrote
                           into the app), metadata.json (the inputs), files.json
                           (python/'s sizes and times, see linked_trees.py), complete
    layers/system/<key>/   the unpacked system packages: tree/, files.json, complete
    apt/                   apt's package lists and downloaded .deb files (debian_packages.py)
    last-install.json      the inputs of the last successful install step (for "why")
    smoke-checks-passed.json  digests of builds whose smoke check passed (see smoke_check.py)
    remembered-<name>.json    documents found by a build, by the digest of what they depend on
                           (app-kind: what `application` is, see launch/app_kind.py)
    logs/                  the step logs of the last builds

A layer is written beside and renamed into place only after its step
succeeded, under an exclusive lock; restores take a shared lock. Layers go
into the slug, and from it into the cache, as hard links where they can
(linked_trees.py says what keeps them intact). Anything
unreadable, half-written or from another format or architecture is discarded
with a notice; the cache never fails a build.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import Any, Protocol

from python_buildpack.cache import linked_trees
from python_buildpack.reporting import output
from python_buildpack.support import commands, partial_files

# Bump when a layer's layout or meaning changes: older caches are discarded.
# 2: editable installs relative to the slug; local projects keyed.
# 3: layers are linked into the slug and record their files (files.json).
LAYER_FORMAT = 3
_KEEP_LAYERS = 3
_SMOKE_PASSED = "smoke-checks-passed.json"  # digests of app states whose smoke check passed
_KEEP_SMOKE_KEYS = 20
_COMPLETE = "complete"


class LayerInputs(Protocol):
    """What a layer is keyed on: its step's inputs, hashed and as a document."""

    def digest(self) -> str: ...

    def as_dict(self) -> dict[str, object]: ...


class BuildCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.layers = root / "layers" / "install"
        self.linked: list[Path] = []  # trees in the slug that share their files with a layer

    def _link_out(self, source: Path, destination: Path, slug_tree: Path) -> None:
        """A tree from a layer into the slug, or from the slug into a layer."""
        if linked_trees.link_or_copy(source, destination) and slug_tree not in self.linked:
            self.linked.append(slug_tree)

    def _intact(self, layer: Path, tree: str) -> bool:
        if linked_trees.matches_manifest(layer / tree, layer / linked_trees.MANIFEST):
            return True
        output.info(f"The cached layer {layer.name} changed since it was saved (a file written"
                    " through the slug of an earlier build?): not restoring it")
        return False

    def unshare_linked(self, before: str) -> None:
        """Give the slug private copies of the trees it shares with layers, before
        commands that may write into them in place (the app's own)."""
        trees = [tree for tree in self.linked if tree.is_dir()]
        if trees:
            output.info(f"Copying the cached layers in the slug before {before}, so that these"
                        " cannot change the cache")
        for tree in trees:
            linked_trees.unshare(tree)
        self.linked.clear()

    # --- locking and validation ---------------------------------------------------

    @contextlib.contextmanager
    def locked(self, exclusive: bool) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield

    def _expected_format(self) -> dict[str, object]:
        return {"layer_format": LAYER_FORMAT, "arch": platform.machine()}

    def check_format(self) -> None:
        """Discard layers from another layer format or architecture, or unreadable ones."""
        format_file = self.root / "format.json"
        with self.locked(exclusive=True):
            try:
                found = json.loads(format_file.read_text())
            except (OSError, ValueError):
                found = None
            partial_files.remove_abandoned(self.root)
            if found == self._expected_format():
                return
            if found is not None or self.layers.exists():
                output.info("Discarding the build cache: it was written by another buildpack "
                            "format or machine, or is unreadable")
                shutil.rmtree(self.root / "layers", ignore_errors=True)
                (self.root / "last-install.json").unlink(missing_ok=True)
            self.root.mkdir(parents=True, exist_ok=True)
            partial_files.write_json_atomically(format_file, self._expected_format())

    # --- the install layer ----------------------------------------------------------

    def last_install_inputs(self) -> dict[str, Any] | None:
        try:
            value = json.loads((self.root / "last-install.json").read_text())
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def find_install_layer(self, inputs: LayerInputs) -> Path | None:
        layer = self.layers / inputs.digest()
        if not (layer / _COMPLETE).is_file() or not (layer / "python" / "bin").is_dir():
            return None
        return layer if _layer_inputs(layer) == inputs.as_dict() else None

    def find_update_base(self, inputs: LayerInputs, varying: Collection[str]
                         ) -> tuple[Path, dict[str, Any]] | None:
        """The newest layer whose inputs differ from these in `varying` only,
        with its inputs (so the caller can tell which of them changed)."""
        wanted = {k: v for k, v in inputs.as_dict().items() if k not in varying}
        for layer in self._complete_layers_newest_first():
            found = _layer_inputs(layer)
            if found is not None and {k: v for k, v in found.items() if k not in varying} == wanted:
                return layer, found
        return None

    def _complete_layers_newest_first(self) -> list[Path]:
        return _complete_newest_first(self.layers)

    def restore_install(self, layer: Path, python_home: Path, app_dir: Path) -> str | None:
        """Copy the layer into the slug; return the path it was built at (or None if unusable)."""
        with self.locked(exclusive=False):
            if not (layer / _COMPLETE).is_file():
                return None
            metadata = json.loads((layer / "metadata.json").read_text())
            if not self._intact(layer, "python"):
                return None
            if python_home.exists():
                shutil.rmtree(python_home)
            python_home.parent.mkdir(parents=True, exist_ok=True)
            self._link_out(layer / "python", python_home, python_home)
            app_files = layer / "app-files"
            if app_files.is_dir():
                _copy_contents(app_files, app_dir)
            os.utime(layer / _COMPLETE)  # most recently used layers are kept
        built_at = metadata.get("python_home")
        return built_at if isinstance(built_at, str) else None

    def discard_install(self, layer: Path) -> None:
        with self.locked(exclusive=True):
            shutil.rmtree(layer, ignore_errors=True)

    def save_install(self, inputs: LayerInputs, python_home: Path, app_dir: Path,
                     app_files: list[Path]) -> None:
        """Store the install step's result; a failure to save only warns."""
        try:
            with self.locked(exclusive=True):
                self._save_install_locked(inputs, python_home, app_dir, app_files)
        except OSError as exc:
            output.warning("The build cache could not be saved; the next build will reinstall",
                           f"{exc.strerror or exc} ({exc.filename or self.root})")
        except commands.CommandFailed as failure:
            output.warning("The build cache could not be saved; the next build will reinstall",
                           "\n".join(failure.tail[-3:]))

    def _save_install_locked(self, inputs: LayerInputs, python_home: Path, app_dir: Path,
                             app_files: list[Path]) -> None:
        def fill(staging: Path) -> None:
            self._store(python_home, staging, "python")
            for path in app_files:
                target = staging / "app-files" / path.relative_to(app_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
            partial_files.write_json_atomically(staging / "metadata.json",
                                   {"inputs": inputs.as_dict(), "python_home": str(python_home)})

        _publish(self.layers, inputs.digest(), fill)
        partial_files.write_json_atomically(self.root / "last-install.json", inputs.as_dict())
        self._prune()

    def refresh_install(self, inputs: LayerInputs, python_home: Path) -> bool:
        """Store python_home again as the layer of these inputs, keeping the layer's
        app files: a later step added to it (the ASGI server). False: not stored."""
        layer = self.find_install_layer(inputs)
        if layer is None:
            return False

        def fill(staging: Path) -> None:
            self._store(python_home, staging, "python")
            for kept in ("app-files", "metadata.json"):
                if (layer / kept).exists():
                    linked_trees.copy_tree(layer / kept, staging / kept)

        try:
            with self.locked(exclusive=True):
                _publish(self.layers, inputs.digest(), fill)
        except (OSError, commands.CommandFailed) as exc:
            output.warning("The build cache could not be saved; the next build will add it again", str(exc))
            return False
        return True

    # --- documents remembered by key ---------------------------------------------------

    def recall(self, name: str, key: str) -> dict[str, Any] | None:
        found = next((entry.get("document") for entry in self._remembered(name)
                      if entry.get("key") == key), None)
        return found if isinstance(found, dict) else None

    def remember(self, name: str, key: str, document: dict[str, Any]) -> None:
        with contextlib.suppress(OSError), self.locked(exclusive=True):
            # A list, newest first (the JSON writer sorts a mapping's keys).
            known = [entry for entry in self._remembered(name) if entry.get("key") != key]
            newest = [{"key": key, "document": document}, *known][:_KEEP_SMOKE_KEYS]
            partial_files.write_json_atomically(self.root / f"remembered-{name}.json", newest)

    def _remembered(self, name: str) -> list[dict[str, Any]]:
        try:
            found = json.loads((self.root / f"remembered-{name}.json").read_text())
        except (OSError, ValueError):
            return []
        return [entry for entry in found if isinstance(entry, dict)] if isinstance(found, list) else []

    # --- smoke checks passed -------------------------------------------------------

    def smoke_check_passed(self, key: str) -> bool:
        try:
            return key in json.loads((self.root / _SMOKE_PASSED).read_text())
        except (OSError, ValueError, TypeError):
            return False

    def remember_smoke_check(self, key: str) -> None:
        with contextlib.suppress(OSError), self.locked(exclusive=True):
            try:
                known = [k for k in json.loads((self.root / _SMOKE_PASSED).read_text()) if k != key]
            except (OSError, ValueError, TypeError):
                known = []
            partial_files.write_json_atomically(self.root / _SMOKE_PASSED, [key, *known][:_KEEP_SMOKE_KEYS])

    # --- tree layers (the system packages) ---------------------------------------------

    def find_tree(self, kind: str, key: str) -> Path | None:
        layer = self.root / "layers" / kind / key
        return layer if (layer / _COMPLETE).is_file() and (layer / "tree").is_dir() else None

    def restore_tree(self, layer: Path, target: Path) -> bool:
        """Copy a tree layer to target; False if it vanished or cannot be copied."""
        try:
            with self.locked(exclusive=False):
                if not (layer / _COMPLETE).is_file() or not self._intact(layer, "tree"):
                    return False
                shutil.rmtree(target, ignore_errors=True)
                target.parent.mkdir(parents=True, exist_ok=True)
                self._link_out(layer / "tree", target, target)
                os.utime(layer / _COMPLETE)
        except (OSError, commands.CommandFailed):
            shutil.rmtree(target, ignore_errors=True)
            return False
        return True

    def save_tree(self, kind: str, key: str, source: Path) -> None:
        """Store a finished tree; a failure to save only warns."""
        layers = self.root / "layers" / kind
        try:
            with self.locked(exclusive=True):
                _publish(layers, key, lambda staging: self._store(source, staging, "tree"))
                for old in _complete_newest_first(layers)[_KEEP_LAYERS:]:
                    shutil.rmtree(old, ignore_errors=True)
        except (OSError, commands.CommandFailed) as exc:
            output.warning("The build cache could not be saved; the next build will start afresh",
                           str(exc))

    def _store(self, slug_tree: Path, staging: Path, name: str) -> None:
        """A slug tree into a layer being written, with the record of its files."""
        self._link_out(slug_tree, staging / name, slug_tree)
        linked_trees.write_manifest(staging / name, staging / linked_trees.MANIFEST)

    def _prune(self) -> None:
        for old in self._complete_layers_newest_first()[_KEEP_LAYERS:]:
            shutil.rmtree(old, ignore_errors=True)


def _publish(layers: Path, key: str, fill: Callable[[Path], None]) -> None:
    """Build a layer in a staging directory and rename it into place: readers see
    the old layer or the complete new one, never a half-written one. The caller
    holds the exclusive lock, so any staging directory left is a killed build's."""
    layers.mkdir(parents=True, exist_ok=True)
    for stale in layers.glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=layers))
    try:
        fill(staging)
        (staging / _COMPLETE).write_text("")
        final = layers / key
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _complete_newest_first(layers: Path) -> list[Path]:
    if not layers.is_dir():
        return []
    return sorted((p for p in layers.iterdir() if (p / _COMPLETE).is_file()),
                  key=lambda p: (p / _COMPLETE).stat().st_mtime, reverse=True)


def _layer_inputs(layer: Path) -> dict[str, Any] | None:
    """The inputs a layer was saved with, or None when its metadata is unreadable."""
    try:
        found = json.loads((layer / "metadata.json").read_text())["inputs"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if isinstance(found, dict) else None


def _copy_contents(source: Path, destination: Path) -> None:
    commands.capture(["cp", "-a", "--reflink=auto", f"{source}/.", str(destination)])
