"""Tools bin/package-runtime needs from the machine."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.reporting import errors
from python_buildpack.runtime import runtime_packer


def test_a_machine_without_strip_is_told_what_to_install(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # strip is on every machine here; an empty PATH is how a machine without binutils looks.
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(errors.BuildpackError) as raised:
        runtime_packer.strip_binaries(tmp_path)
    assert raised.value.code == "package-runtime::tool-missing"
    assert "strip" in raised.value.title
