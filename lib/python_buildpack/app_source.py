"""What the app's source says about itself: is it Python, what does it serve."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from python_buildpack import errors, leanengine_yaml

WSGI_FILE = "wsgi.py"
REQUIREMENTS_FILE = "requirements.txt"


def is_python_app(app_dir: Path) -> bool:
    """The platform's detection rule: leanengine.yaml's runtime wins, else the two files."""
    try:
        runtime = leanengine_yaml.load(app_dir).runtime
    except errors.BuildpackError:
        runtime = None  # compile reports the broken file; detection falls back to files
    if runtime is not None:
        return runtime == "python"
    return (app_dir / WSGI_FILE).is_file() and (app_dir / REQUIREMENTS_FILE).is_file()


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
    wsgi = app_dir / WSGI_FILE
    if not wsgi.is_file():
        raise errors.no_entry_point()
    source = wsgi.read_bytes().decode("utf-8", errors="replace")
    if not defines_application(source):
        raise errors.no_application()
