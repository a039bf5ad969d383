"""What the app's source says about itself: is it Python, what does it serve."""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

from python_buildpack.analysis import dependency_manifest, leanengine_yaml, procfile
from python_buildpack.reporting import errors

WSGI_FILE = "wsgi.py"
# Django projects ship asgi.py beside wsgi.py: it is the entry point only
# when there is no wsgi.py (the platform's own file wins).
ASGI_FILE = "asgi.py"
ENTRY_FILES = (WSGI_FILE, ASGI_FILE)
REQUIREMENTS_FILE = "requirements.txt"


def is_python_app(build_dir: Path) -> bool:
    """The platform's detection rule, applied after buildRoot: leanengine.yaml's
    runtime wins, else an entry point (wsgi.py, asgi.py, or a `run:` command)
    and a dependency manifest must both be there. The platform's own rule is
    wsgi.py and requirements.txt; pyproject.toml and the locks go beyond it."""
    try:
        app_dir, config = resolve_config(build_dir)
    except errors.BuildpackError:
        # compile reports the broken file; detection falls back to the files
        app_dir, config = build_dir, leanengine_yaml.LeanEngineConfig()
    if config.runtime is not None:
        return config.runtime == "python"
    has_entry = entry_file(app_dir) is not None or config.run is not None
    return has_entry and dependency_manifest.has_manifest(app_dir)


def entry_file(app_dir: Path) -> str | None:
    """The file whose `application` the default web command serves: wsgi.py, else asgi.py."""
    return next((name for name in ENTRY_FILES if (app_dir / name).is_file()), None)


def defines_application(source: str) -> bool:
    """Whether wsgi.py binds `application` at its top level (statically).

    A file this Python cannot parse (e.g. Python 2 syntax) is checked by a
    pattern instead, and a star import is given the benefit of the doubt.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return re.search(r"^(application\s*=|def application\b|class application\b)"
                         r"|\bimport\b.*\bapplication\b", source, re.M) is not None
    return any(_binds_application(node) for node in tree.body)


def _binds_application(node: ast.stmt) -> bool:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name == "application"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any(alias.name == "*" or (alias.asname or alias.name) == "application"
                   for alias in node.names)
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(_names_application(target) for target in targets)
    if isinstance(node, (ast.If, ast.Try)):
        blocks = [node.body, node.orelse] + (
            [node.finalbody] + [h.body for h in node.handlers] if isinstance(node, ast.Try) else []
        )
        return any(_binds_application(child) for block in blocks for child in block)
    return False


def _names_application(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return target.id == "application"
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_names_application(element) for element in target.elts)
    return False


def check_entry_point(app_dir: Path, run_command: str | None) -> None:
    """Fail early when the platform would have nothing to start."""
    if run_command:
        return
    entry = entry_file(app_dir)
    if entry is None:
        raise errors.no_entry_point()
    source = (app_dir / entry).read_bytes().decode("utf-8", errors="replace")
    if not defines_application(source):
        raise errors.no_application(entry)


def resolve_config(build_dir: Path) -> tuple[Path, leanengine_yaml.LeanEngineConfig]:
    """The directory to build and its configuration: leanengine.yaml (after
    buildRoot), with a Procfile's web line as `run` when leanengine.yaml has none."""
    app_dir, config = resolve_build_root(build_dir, leanengine_yaml.load(build_dir))
    return app_dir, with_procfile(app_dir, config)


def with_procfile(app_dir: Path, config: leanengine_yaml.LeanEngineConfig
                  ) -> leanengine_yaml.LeanEngineConfig:
    """Heroku's convention: the Procfile's web process starts the app unless
    leanengine.yaml says `run:` (which wins: it is this platform's own key)."""
    found = procfile.read_processes(app_dir)
    others = tuple((process.name, process.command) for process in found if process.name != "web")
    web = procfile.web(found)
    if config.run is not None or web is None:
        return dataclasses.replace(config, other_processes=others)
    source = f"{procfile.FILE_NAME} line {web.line_number}"
    return dataclasses.replace(config, run=web.command, run_source=source, other_processes=others)


def resolve_build_root(build_dir: Path, root_config: leanengine_yaml.LeanEngineConfig
                       ) -> tuple[Path, leanengine_yaml.LeanEngineConfig]:
    """The directory to build, and its configuration.

    With `buildRoot`, that subdirectory is built as if only it had been
    uploaded: its own leanengine.yaml, when it has one, configures the build;
    otherwise the root file's other keys do.
    """
    if root_config.build_root is None or root_config.build_root == ".":
        return build_dir, root_config
    app_dir = (build_dir / root_config.build_root)
    resolved = app_dir.resolve()
    if not resolved.is_dir() or not resolved.is_relative_to(build_dir.resolve()):
        raise errors.build_root_missing(root_config.build_root)
    own = leanengine_yaml.read_text(resolved)
    return resolved, leanengine_yaml.parse(own) if own is not None else root_config


def check_required_files(app_dir: Path, required: tuple[str, ...]) -> None:
    root = app_dir.resolve()
    for path in required:
        target = (app_dir / path).resolve()
        if not target.exists() or not target.is_relative_to(root):
            raise errors.required_file_missing(path)


def check_inputs_stay_inside(app_dir: Path, names: tuple[str, ...]) -> None:
    """The files the build reads must not be links leading out of the app
    (e.g. requirements.txt -> /etc/shadow would be read and echoed by pip)."""
    root = app_dir.resolve()
    for name in names:
        path = app_dir / name
        if path.is_symlink() and not path.resolve().is_relative_to(root):
            raise errors.link_leaves_app(name)


def check_regular_files(app_dir: Path, names: tuple[str, ...]) -> None:
    """Files the build reads must be regular files. A FIFO or directory named
    requirements.txt used to be skipped without a word (found by the stress
    suite): the build succeeded and the app failed at run time."""
    for name in names:
        path = app_dir / name
        if path.exists() and not path.is_file():
            raise errors.file_not_regular(name)
