"""The stress suite's figures (one table row per scenario) and hypothesis profiles."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from stress.support import Figures

# `make test` tries a few hundred inputs per parser; `make stress` ten thousand.
settings.register_profile("quick", max_examples=300, deadline=None)
settings.register_profile("stress", max_examples=10_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


@pytest.fixture(scope="session")
def figures() -> Iterator[Figures]:
    table = Figures()
    yield table
    report = os.environ.get("STRESS_REPORT")
    if report:
        table.write(Path(report))
