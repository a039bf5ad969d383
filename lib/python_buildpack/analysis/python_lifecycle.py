"""Where a Python line stands in its life, from the dated table in
data/python_lines.yaml compared with the day of the build.

The table holds dates, not verdicts, so that the warnings do not go stale:
a line that passes its end of life warns from that day on without a release
of the buildpack. Pure apart from reading the table; the day is a parameter.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass
from importlib import resources

# A notice this long before the end: about one release cycle of an app's
# dependencies, time enough to test on a newer line.
NOTICE_MONTHS = 6


@dataclass(frozen=True)
class LineDates:
    line: str
    released: datetime.date
    end_of_life: datetime.date
    source: str


@functools.lru_cache(maxsize=1)
def lines() -> dict[str, LineDates]:
    """The table, by line ("3.12")."""
    import yaml  # noqa: PLC0415 -- on first use: bin/detect and bin/release import analysis too

    text = resources.files("python_buildpack.analysis").joinpath("data/python_lines.yaml").read_text()
    table = yaml.safe_load(text)
    return {line: LineDates(line, row["released"], row["end_of_life"], row["source"])
            for line, row in table.items()}


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day of the month `months` earlier (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for candidate in range(day.day, 0, -1):
        try:
            return datetime.date(year, month + 1, candidate)
        except ValueError:
            continue
    raise AssertionError("every month has a first day")


def lifecycle_messages(line: str, today: datetime.date, newest_line: str
                       ) -> tuple[list[tuple[str, str]], list[str]]:
    """Warnings (title, detail) and notices for building on `line` today."""
    dates = lines().get(line)
    if dates is None:
        return [], []
    if today >= dates.end_of_life:
        return [(f"Python {line} has reached its end of life",
                 f"Python {line} gets no security fixes since {dates.end_of_life.isoformat()}"
                 f" ({dates.source}). Move to a supported version, e.g. `{newest_line}`.")], []
    if today >= months_before(dates.end_of_life, NOTICE_MONTHS):
        return [], [f"Python {line} reaches its end of life on {dates.end_of_life.isoformat()}"
                    f" ({dates.source}): plan the move to a newer line, e.g. `{newest_line}`."]
    return [], []
