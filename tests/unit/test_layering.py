"""The folder shows the pipeline: a stage imports only from the stages below it.

The stages, bottom first. `cli` and `compile` (the entry points and the
pipeline) sit on top and may import anything. The mechanisms (the build
cache, CPython runtimes, Debian packages) know nothing of the app; the
analysis consults them (the mirror's manifest, the registry of
systemDependencies) to decide what to build; the install and launch stages
act on its plan.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "lib" / "python_buildpack"
STAGES = ("reporting", "support", "cache", "runtime", "system", "analysis", "install", "launch", "image")
TOP_LEVEL = {"__init__.py", "cli.py", "compile.py"}
# On top of the pipeline: the Cloud Native Buildpack runs compile's build in CNB layers.
ON_TOP = {"cnb"}
PIPELINE = {"cli", "compile", *ON_TOP}  # the top: nothing below imports it


def stage_of(module: str) -> str:
    """The stage (or top-level module, or root name) a dotted name inside python_buildpack is in."""
    return module.split(".")[1]


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import of python_buildpack in a source file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            if base == "python_buildpack" or (base.count(".") == 1 and base.startswith("python_buildpack.")):
                # `from python_buildpack.<stage> import <module>`: name each module
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            elif base.startswith("python_buildpack."):
                found.append((node.lineno, base))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names
                      if alias.name.startswith("python_buildpack.")]
    return found


def crossings(package: Path) -> list[str]:
    """Imports of a stage above the importer's own, as 'file:line imports module'."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if len(relative.parts) == 1:
            if relative.name not in TOP_LEVEL:
                problems.append(f"{relative}: modules belong in a stage's subpackage")
            continue
        own = relative.parts[0]
        if own in ON_TOP:
            continue
        if own not in STAGES:
            if own != "data":
                problems.append(f"{relative}: {own}/ is not a known stage")
            continue
        for line, module in imported_modules(path):
            stage = stage_of(module)
            above = stage in PIPELINE or (stage in STAGES and STAGES.index(stage) > STAGES.index(own))
            if above:  # names from the package root (its version constants) are fine
                problems.append(f"{relative}:{line} ({own}) imports {module} ({stage})")
    return problems


def test_no_stage_imports_from_a_stage_above_its_own() -> None:
    assert crossings(PACKAGE) == []


def test_every_stage_is_a_directory_with_modules() -> None:
    for stage in STAGES:
        assert (PACKAGE / stage / "__init__.py").is_file(), stage


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"analysis/build_plan.py": "from python_buildpack.install import pip_install\n"},
         ["analysis/build_plan.py:1 (analysis) imports python_buildpack.install.pip_install (install)"]),
        ({"install/install_step.py": "from python_buildpack.launch.start_command import SLUG_DIR\n"},
         ["install/install_step.py:1 (install) imports python_buildpack.launch.start_command (launch)"]),
        ({"support/commands.py": "from python_buildpack import compile\n"},
         ["support/commands.py:1 (support) imports python_buildpack.compile (compile)"]),
        ({"install/pip_install.py": "from python_buildpack.runtime import archive\n"
                                    "from python_buildpack.reporting import errors\n"}, []),
        ({"stray.py": ""}, ["stray.py: modules belong in a stage's subpackage"]),
    ],
)
def test_the_rule_finds_crossings(tmp_path: Path, files: dict[str, str], expected: list[str]) -> None:
    for name, source in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(source)
    assert crossings(tmp_path) == expected
