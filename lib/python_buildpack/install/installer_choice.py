"""Which installer puts the app's packages in: uv by default where it gives the
environment pip gives (Python 3.8 and later), pip where it cannot.

tests/integration/test_installer_parity.py builds every fixture with both and
compares the installed distributions; the cases below are those where uv would
refuse the app, or quietly install something else than pip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.analysis import requirement_files
from python_buildpack.analysis.build_plan import BuildPlan, setting
from python_buildpack.analysis.requirement_includes import logical_lines
from python_buildpack.reporting import errors, output

# uv installs into any CPython it supports upstream (3.8+); older lines use pip.
UV_MINIMUM_PYTHON = (3, 8)

# The options of a requirement file uv reads as pip does. uv refuses others
# (`--global-option`, `--config-settings`, `--no-build-isolation`, `--use-pep517`),
# or skips them with a warning (`--pre`, `--trusted-host`, `--prefer-binary`),
# which installs other versions than pip would, or fails later.
_UV_OPTIONS = frozenset((
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "--no-index", "-f", "--find-links", "--no-binary", "--only-binary",
    "--require-hashes"))
# After a requirement, uv reads only `--hash` (pip also per-requirement build options).
_UV_REQUIREMENT_OPTIONS = frozenset(("--hash",))
_OPTION = re.compile(r"(?:^|\s)(--?[A-Za-z][\w-]*)")


@dataclass(frozen=True)
class InstallerChoice:
    name: str  # pip or uv
    why: str  # for the log: what chose it


def choose_installer(plan: BuildPlan) -> InstallerChoice:
    """PYTHON_INSTALLER when set; else uv where it can install the app as pip would.
    Only uv reads pylock.toml."""
    chosen = setting("PYTHON_INSTALLER", plan.host_env, plan.app_env)
    wanted = chosen.lower() if chosen else None
    if wanted not in (None, "pip", "uv"):
        raise errors.bad_installer(chosen or "")
    if wanted == "pip" and plan.manifest.manager != "pylock":
        return InstallerChoice("pip", "PYTHON_INSTALLER=pip")
    version = plan.version.version
    if tuple(int(part) for part in version.split(".")[:2]) < UV_MINIMUM_PYTHON:
        unsupported = f"uv does not support Python {version}"
        output.info(f"PYTHON_INSTALLER=uv: {unsupported}; using pip" if wanted == "uv"
                    else f"Installing with pip: {unsupported}")
        return InstallerChoice("pip", unsupported)
    if plan.manifest.manager == "pylock":
        return InstallerChoice("uv", "pip cannot read pylock.toml")
    if wanted == "uv":
        return InstallerChoice("uv", "PYTHON_INSTALLER=uv")
    reason = pip_only(plan.app_dir) if plan.manifest.manager == "requirements" else None
    if reason is not None:
        output.info(f"Installing with pip: {reason}")
        return InstallerChoice("pip", reason)
    return InstallerChoice("uv", "the default on Python 3.8 and later; PYTHON_INSTALLER=pip for pip")


def pip_only(app_dir: Path) -> str | None:
    """Why the app's requirement files need pip, or None when uv reads them as pip does."""
    for path in requirement_files.files_of(app_dir):
        for line in logical_lines(path.read_text(errors="replace")):
            option = _unsupported_option(line)
            if option is not None:
                shown = path.relative_to(app_dir.resolve())
                return f"{shown} uses `{option}`, which uv does not read as pip does"
    return None


def _unsupported_option(line: str) -> str | None:
    """The first option of a line that uv rejects or ignores. pip's abbreviations
    (`--requirem`) and glued short forms (`-rfile`) count by their first two characters."""
    found = [match.group(1) for match in _OPTION.finditer(line)]
    if line.startswith("-"):
        if not found:
            return line.split(maxsplit=1)[0]
        option = found[0] if found[0].startswith("--") else found[0][:2]
        return None if option in _UV_OPTIONS else option
    return next((option for option in found if option not in _UV_REQUIREMENT_OPTIONS), None)
