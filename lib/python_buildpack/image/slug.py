"""What bin/image reads from a compiled slug (never writes): the build report,
bin/release's web command and startup timeout, whether the app uses the SDK."""

from __future__ import annotations

import json
from pathlib import Path

from python_buildpack.image.config import AppFacts
from python_buildpack.launch import start_command
from python_buildpack.reporting import errors
from python_buildpack.reporting.build_report import REPORT_FILE


def read_facts(slug: Path) -> AppFacts:
    if not (slug / ".lean" / "python" / "bin").is_dir():
        raise errors.image_not_compiled(str(slug), "it has no .lean/python/bin (the runtime)")
    try:
        report = json.loads((slug / REPORT_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise errors.image_not_compiled(str(slug), f"{REPORT_FILE} cannot be read") from exc
    if not isinstance(report, dict) or report.get("outcome") != "succeeded":
        outcome = report.get("outcome") if isinstance(report, dict) else "unknown"
        raise errors.image_not_compiled(str(slug), f"its last build did not succeed ({outcome})")
    release = start_command.release_facts(slug)
    processes = release["default_process_types"]
    web = str(processes["web"])
    timeout = float((release.get("leanengine") or {}).get("startupTimeout", 30))
    uses_sdk = any(slug.glob(".lean/python/lib/python*/site-packages/leancloud/__init__.py"))
    return AppFacts(
        web_command=web,
        python_version=str(report.get("python_version") or ""),
        buildpack_version=str(report.get("buildpack_version") or ""),
        startup_timeout=timeout,
        uses_sdk=uses_sdk,
        other_processes=tuple((str(name), str(cmd)) for name, cmd in processes.items() if name != "web"),
    )
