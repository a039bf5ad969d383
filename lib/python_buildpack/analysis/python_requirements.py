"""The Python version against what the project declares: `requires-python` of
pyproject.toml, and the Python a lock was made for.

The order of the sources: .python-version, runtime.txt, requires-python (the
newest version in the mirror that satisfies it), the lock's own Python
requirement (a Pipfile.lock names the line it was locked on), the platform's
PYTHON_DEFAULT_VERSION, the newest stable version. A version file outside
requires-python, and a chosen version the lock was not made for, are errors
before anything is installed.
"""

from __future__ import annotations

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from python_buildpack.analysis import python_version
from python_buildpack.analysis.dependency_manifest import LOCK_COMMANDS, DependencyManifest
from python_buildpack.analysis.project_files import PYPROJECT
from python_buildpack.analysis.python_version import VersionChoice
from python_buildpack.reporting import errors


def choose(
    version_file: bytes | None,
    runtime_txt: bytes | None,
    default: str | None,
    available: list[str],
    manifest: DependencyManifest,
) -> VersionChoice:
    if version_file is not None or runtime_txt is not None:
        choice = python_version.choose_version(version_file, runtime_txt, None, available)
        origin = python_version.FILE_NAME if version_file is not None else python_version.RUNTIME_TXT
        if manifest.project_python and not _satisfies(choice.version, manifest.project_python):
            raise errors.python_outside_requires(choice.version, origin, manifest.project_python, PYPROJECT)
    elif manifest.project_python:
        choice = _newest_satisfying(manifest.project_python, f"requires-python in {PYPROJECT}", available)
    elif manifest.lock_python and manifest.lock:
        choice = _newest_satisfying(
            manifest.lock_python, f"the Python {manifest.lock} was made for", available
        )
    else:
        choice = python_version.choose_version(None, None, default, available)
    if manifest.lock and manifest.lock_python and not _satisfies(choice.version, manifest.lock_python):
        raise errors.python_not_in_lock(
            choice.version, manifest.lock, manifest.lock_python, LOCK_COMMANDS[manifest.manager]
        )
    return choice


def _satisfies(version: str, specifier: str) -> bool:
    return SpecifierSet(specifier).contains(Version(version), prereleases=True)


def _newest_satisfying(specifier: str, origin: str, available: list[str]) -> VersionChoice:
    versions = [v for v in python_version.parse_available(available) if not v.is_prerelease]
    matching = [v for v in versions if SpecifierSet(specifier).contains(v)]
    if not matching:
        raise errors.python_none_satisfies(specifier, origin, [str(v) for v in versions])
    version = str(matching[-1])
    reason = f"from {origin} ({specifier}): the newest version in the mirror that satisfies it"
    return VersionChoice(version, reason, [], python_version.version_warnings(None, version, available))
