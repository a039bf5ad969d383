"""bin/build as a CNB (Buildpack API 0.10, "Build" and "Phase #5: Build"):
the classic pipeline (compile.py) builds the app in the working directory,
with CNB_PLATFORM_DIR/env as its ENV_DIR (the same refusals and redaction)
and a cached `cache` layer as its CACHE_DIR; the runtime with the
dependencies and the system packages then become the `python` and `system`
layers, their environment env.launch files, and the release launch.toml.

The app keeps `.lean/python` and `.lean/system` as links to the layers: the
layers sit at the same absolute path in the image, and the start commands and
the smoke check name those paths.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

from python_buildpack import BUILDPACK_VERSION
from python_buildpack.cnb import launch_env, launch_toml, toml_files
from python_buildpack.cnb.layers import Layer, why_not_reusable
from python_buildpack.compile import compile_app
from python_buildpack.launch import start_command
from python_buildpack.reporting import build_report, output
from python_buildpack.support.slug_layout import SLUG_DIR
from python_buildpack.system import system_registry, system_tree

# Settings the classic build takes from the platform's process environment.
# Under a lifecycle the builder's operator sets them there (build-config/env),
# and `pack build --env` puts them in the platform's env files, which
# clear-env keeps out of the environment: read from there too.
PLATFORM_SETTINGS = ("PYTHON_RUNTIME_MIRROR", "PYTHON_RUNTIME_MIRROR_TIMEOUT", "SYSTEM_PACKAGES_MIRROR")


def platform_env_dir(environ: Mapping[str, str]) -> Path | None:
    directory = Path(environ["CNB_PLATFORM_DIR"]) / "env"
    return directory if directory.is_dir() else None


def adopt_platform_settings(env_dir: Path | None, environ: MutableMapping[str, str]) -> None:
    """The operator's value wins; the files are ENV_DIR's, so their values are
    redacted in the output like every other."""
    for name in PLATFORM_SETTINGS:
        path = env_dir / name if env_dir else None
        if name not in environ and path is not None and path.is_file():
            environ[name] = path.read_text().strip()


def build(app_dir: Path, environ: Mapping[str, str]) -> int:
    layers_dir = Path(environ["CNB_LAYERS_DIR"])
    # Read before the build: what the lifecycle restored from the previous one.
    previous = {layer.name: (layer.previous_metadata(), layer.path.is_dir())
                for layer in (Layer(layers_dir, "python"), Layer(layers_dir, "system"))}
    cache = Layer(layers_dir, "cache")
    cache.path.mkdir(parents=True, exist_ok=True)
    # Only for the build: never in the image (launch = false).
    cache.write_metadata({"buildpack_version": BUILDPACK_VERSION}, launch=False, cache=True)
    adopt_platform_settings(platform_env_dir(environ), os.environ)
    compile_app(app_dir, cache.path, platform_env_dir(environ))
    report = json.loads((app_dir / build_report.REPORT_FILE).read_text())
    output.heading("Cloud Native Buildpack layers")
    python = provide_python_layer(app_dir, layers_dir, report, previous["python"])
    provide_system_layer(app_dir, layers_dir, report, previous["system"], python.path / "bin")
    facts = start_command.release_facts(app_dir)
    toml_files.write(layers_dir / "launch.toml",
                     launch_toml.launch_document(app_dir, facts, report["python_version"]))
    output.info(f"launch.toml: {', '.join(facts['default_process_types'])} (web is the default)")
    return 0


def place_layer(layer: Layer, tree: Path, wanted: dict[str, Any],
                previous: tuple[dict[str, Any] | None, bool]) -> bool:
    """Reuse the restored layer untouched when it holds what the build made (True),
    else replace it with the tree; either way the app's tree becomes a link to it."""
    reason = why_not_reusable(previous[0], wanted, previous[1])
    if reason is None:
        output.info(f"{layer.name}: reused unchanged from the previous build")
        shutil.rmtree(tree)
    else:
        output.info(f"{layer.name}: made afresh, since {reason}")
        layer.replace_with(tree)
    tree.symlink_to(layer.path, target_is_directory=True)
    return reason is None


def provide_python_layer(app_dir: Path, layers_dir: Path, report: dict[str, Any],
                         previous: tuple[dict[str, Any] | None, bool]) -> Layer:
    layer = Layer(layers_dir, "python")
    wanted = {"buildpack_version": BUILDPACK_VERSION, "python_version": report["python_version"],
              "install_key": report["install_key"]}
    if not place_layer(layer, app_dir / SLUG_DIR / "python", wanted, previous):
        launch_env.python_launch_env(layer.path)
    layer.write_metadata(wanted, launch=True, cache=True)
    return layer


def provide_system_layer(app_dir: Path, layers_dir: Path, report: dict[str, Any],
                         previous: tuple[dict[str, Any] | None, bool], python_bin: Path) -> None:
    tree = app_dir / SLUG_DIR / "system"
    layer = Layer(layers_dir, "system")
    if not tree.is_dir():
        shutil.rmtree(layer.path, ignore_errors=True)
        layer.metadata_file.unlink(missing_ok=True)
        return
    hooks = system_registry.hooks_for(report["system_dependencies"], report["python_version"])
    # system_key: the hooks, the apt sources and the image's packages (system_step).
    wanted = {"buildpack_version": BUILDPACK_VERSION, "python_version": report["python_version"],
              "system_dependencies": list(report["system_dependencies"]), "system_key": report["system_key"]}
    if not place_layer(layer, tree, wanted, previous):
        environment = system_tree.describe(layer.path, hooks)
        launch_env.write_files(layer.path / "env.launch",
                               launch_env.system_launch_files(layer.path, python_bin, environment))
    layer.write_metadata(wanted, launch=True, cache=True)
