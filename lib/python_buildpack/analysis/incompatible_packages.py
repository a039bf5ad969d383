"""Packages that do not install on some Python lines (data/incompatible_packages.yaml)
and which of them hold an app back.

The table is data, one row per package with its reason and source, so that a
new row needs no code. The version policy narrows an unpinned app's Python to
the lines every row allows, and refuses a pin outside them before pip runs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from python_buildpack.analysis.declared_packages import DeclaredPackage


@dataclass(frozen=True)
class Incompatibility:
    package: str  # canonical name
    python: SpecifierSet  # the Python versions it installs on
    reason: str
    source: str
    below: Version | None = None  # only its releases older than this; None: every release

    def allows(self, python: str) -> bool:
        return self.python.contains(Version(python), prereleases=True)

    @property
    def releases(self) -> str:
        """The package and the releases the row is about: `gevent<23.9`, `leancloud`."""
        return f"{self.package}<{self.below}" if self.below else self.package


@functools.lru_cache(maxsize=1)
def table() -> tuple[Incompatibility, ...]:
    import yaml  # noqa: PLC0415 -- on first use: bin/detect and bin/release import analysis too

    data = resources.files("python_buildpack.analysis").joinpath("data")
    text = data.joinpath("incompatible_packages.yaml").read_text()
    rows = []
    for name, row in yaml.safe_load(text).items():
        releases = row.get("releases")
        below = Version(releases.removeprefix("below ").strip()) if releases else None
        rows.append(Incompatibility(canonicalize_name(name), SpecifierSet(row["python"]),
                                    " ".join(row["reason"].split()), row["source"], below))
    return tuple(rows)


def holding_back(declared: Mapping[str, DeclaredPackage],
                 rows: tuple[Incompatibility, ...] | None = None) -> tuple[Incompatibility, ...]:
    """The rows about packages the app declares, in releases it can end up with."""
    return tuple(row for row in (table() if rows is None else rows)
                 if row.package in declared and _applies(row, declared[row.package]))


def _applies(row: Incompatibility, package: DeclaredPackage) -> bool:
    if row.below is None:
        return True
    if package.locked is not None:
        return package.locked < row.below
    return only_below(package.allowed, row.below)


def only_below(allowed: SpecifierSet, limit: Version) -> bool:
    """Whether every release the specifier allows is older than `limit`."""
    return any(_caps_below(spec.operator, spec.version, limit) for spec in allowed)


def _caps_below(operator: str, text: str, limit: Version) -> bool:
    wildcard = text.endswith(".*")
    version = Version(text.removesuffix(".*"))
    if operator == "<":
        return version <= limit
    if operator == "<=":
        return version < limit
    if operator == "==":
        return _next_release(version) <= limit if wildcard else version < limit
    if operator == "~=":  # ~=2.2 allows 2.x from 2.2 on, ~=2.2.1 allows 2.2.x
        return _next_release(Version(".".join(str(part) for part in version.release[:-1]))) <= limit
    return False


def _next_release(prefix: Version) -> Version:
    """The first release after every release that starts with `prefix` (2.1 -> 2.2)."""
    parts = list(prefix.release)
    parts[-1] += 1
    return Version(".".join(str(part) for part in parts))


def allowed_by_all(rows: tuple[Incompatibility, ...], python: str) -> bool:
    return all(row.allows(python) for row in rows)


def blocking(rows: tuple[Incompatibility, ...], python: str) -> Incompatibility | None:
    """The first row that does not allow `python`."""
    return next((row for row in rows if not row.allows(python)), None)
