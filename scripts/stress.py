"""`make stress`: the fault and abuse suite (tests/stress) at full counts, then its figures.

Runs pytest on tests/stress with STRESS_LEVEL=full (30 killed builds, six builds
at once, ...) and HYPOTHESIS_PROFILE=stress (10,000 inputs per parser), and
prints one table row per scenario: trials, passed, inputs tried, bytes written
outside the build's own directories and ENV_DIR values found in build output
("-" where a scenario does not measure that). `make test` runs the same suite
with a few trials each.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench import machine

REPO = Path(__file__).resolve().parents[1]


def distribution() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return "unknown Linux"


def run_suite(report: Path, pytest_args: list[str]) -> int:
    env = {**os.environ, "STRESS_LEVEL": "full", "HYPOTHESIS_PROFILE": "stress", "STRESS_REPORT": str(report)}
    command = [sys.executable, "-m", "pytest", "tests/stress", "-p", "no:cacheprovider", "-q", *pytest_args]
    return subprocess.run(command, cwd=REPO, env=env, check=False).returncode


def cell(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| scenario | trials | passed | inputs tried | bytes written outside | secrets leaked |",
             "|---|---:|---:|---:|---:|---:|"]
    for row in rows:
        lines.append(f"| {row['scenario']} | {row['trials']} | {row['passed']} | "
                     f"{cell(row['inputs'] or None)} | {cell(row['bytes_outside'])} | "
                     f"{cell(row['secrets_leaked'])} |")
    return "\n".join(lines)


def grouped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per kind of scenario ("archive: fifo" counts under "archive")."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = row["scenario"].split(":")[0] if ":" in row["scenario"] else row["scenario"]
        group = groups.setdefault(name, {"scenario": name, "trials": 0, "passed": 0, "inputs": 0,
                                         "bytes_outside": None, "secrets_leaked": None, "cases": 0})
        group["cases"] += 1
        for key in ("trials", "passed", "inputs"):
            group[key] += row[key]
        for key in ("bytes_outside", "secrets_leaked"):
            if row[key] is not None:
                group[key] = (group[key] or 0) + row[key]
    for group in groups.values():
        if group["cases"] > 1:
            group["scenario"] = f"{group['scenario']} ({group['cases']} cases)"
    return list(groups.values())


def totals(rows: list[dict[str, Any]]) -> str:
    def total(key: str) -> int:
        return sum(int(row[key] or 0) for row in rows)
    return (f"trials survived: {total('passed'):,} of {total('trials'):,}; "
            f"inputs tried: {total('inputs'):,}; "
            f"bytes written outside targets: {total('bytes_outside'):,}; "
            f"secrets leaked: {total('secrets_leaked'):,}")


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stress-report-") as directory:
        report = Path(directory) / "figures.json"
        code = run_suite(report, sys.argv[1:])
        rows = json.loads(report.read_text()) if report.exists() else []
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    seed = os.environ.get("STRESS_SEED", "20261126")
    print(f"\nmake stress, {when}, {distribution()}, {machine()}, seed {seed}, "
          f"{(time.monotonic() - started) / 60:.1f} min\n")
    print(table(grouped(rows)))
    print(f"\n{totals(rows)}\n\nEvery case:\n")
    print(table(rows))
    return code


if __name__ == "__main__":
    sys.exit(main())
