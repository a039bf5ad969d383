"""What a build decided and how long it took: the closing summary of the log,
and `.lean/build-report.json`, which `bin/report BUILD_DIR` prints as YAML.

One build is one process, so the steps record into one module-level report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from python_buildpack import BUILDPACK_VERSION
from python_buildpack.reporting import errors

# In the slug's .lean (support.slug_layout, a stage above this one).
REPORT_FILE = Path(".lean") / "build-report.json"


@dataclass
class BuildReport:
    buildpack_version: str = BUILDPACK_VERSION
    outcome: str = "running"  # succeeded | failed
    failure_code: str | None = None
    python_version: str | None = None
    python_version_reason: str | None = None
    installer: str | None = None
    dependencies: str | None = None  # the manifest installed from: requirements.txt, a lock, ...
    install_key: str | None = None  # the digest of the install step's inputs (its cache key)
    system_dependencies: list[str] = field(default_factory=list)
    system_key: str | None = None  # the digest of what decides the system tree (its cache key)
    cache: dict[str, str] = field(default_factory=dict)  # what each cached part did
    smoke_check: str | None = None
    app: dict[str, Any] | None = None  # what `application` is: entry, kind, found, worker_class
    web_command: str | None = None
    slug_size_bytes: int | None = None
    duration_seconds: float | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_report = BuildReport()


def start() -> BuildReport:
    global _report  # noqa: PLW0603 -- one report per build process
    _report = BuildReport()
    return _report


def record_cache(part: str, decision: str) -> None:
    _report.cache[part] = decision


def record_system_key(key: str) -> None:
    _report.system_key = key


def _read(build_dir: Path) -> Any:
    return json.loads((build_dir / REPORT_FILE).read_text())


def as_yaml(build_dir: Path) -> str:
    """The report of the last build in build_dir, as YAML."""
    import yaml  # noqa: PLC0415 -- only here: every bin/ command imports this module
    try:
        found = _read(build_dir)
    except (OSError, ValueError) as exc:
        raise errors.report_missing(str(build_dir), str(exc)) from exc
    return yaml.safe_dump(found, sort_keys=False, allow_unicode=True)


def last_failure(build_dir: Path) -> str | None:
    """The failure code of the last build in build_dir; None when it succeeded,
    or when there is no readable report: bin/release must keep working on an
    app that was never compiled (the platform contract)."""
    try:
        found = _read(build_dir)
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or found.get("outcome") != "failed":
        return None
    return str(found.get("failure_code") or "unknown")

