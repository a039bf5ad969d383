"""Properties of the messages themselves (errors.py), whatever their cause."""

from __future__ import annotations

import pytest
from python_buildpack.install.pip_failures import Diagnosis
from python_buildpack.reporting import errors


@pytest.mark.parametrize("cause", ["no-such-package", "no-matching-version", "build-failed",
                                   "network", "conflict", "other"])
@pytest.mark.parametrize("step", ["install the app's requirements", "install the web server"])
def test_pip_failures_do_not_repeat_their_title_as_the_first_detail_line(cause: str, step: str) -> None:
    diagnosis = Diagnosis(cause, "Flask==0.0.1", ("ERROR: something went wrong",))
    err = errors.pip_failed(step, 1, diagnosis, "3.12.1")
    first_line = err.detail.splitlines()[0]
    assert err.title.rstrip(".") not in first_line
    assert step in first_line  # the step and exit code are still said, once
