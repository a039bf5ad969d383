"""Where the buildpack's own programs come from: its venv in a source
checkout, vendor/bin in the packaged buildpack (never the directory of the
build image's python3, whose uv would not be the pinned one)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from python_buildpack.support import buildpack_tools


@pytest.fixture
def packaged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A stand-in buildpack directory with the packaging marker."""
    vendor = tmp_path / "vendor"
    (vendor / "bin").mkdir(parents=True)
    (vendor / "packaged-for").write_text("cpython-311\n3.11\nx86_64\n")
    monkeypatch.setattr(buildpack_tools, "VENDOR_DIR", vendor)
    monkeypatch.setattr(buildpack_tools, "PACKAGED_MARKER", vendor / "packaged-for")
    return vendor


def test_a_source_checkout_uses_the_programs_beside_its_interpreter() -> None:
    assert not buildpack_tools.is_packaged()  # this checkout
    assert buildpack_tools.program("uv") == Path(sys.executable).parent / "uv"
    assert buildpack_tools.tools_dir() == Path(sys.executable).parent.parent.parent


def test_the_packaged_buildpack_uses_vendor_bin(packaged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert buildpack_tools.is_packaged()
    assert buildpack_tools.program("uv") == packaged / "bin" / "uv"
    assert buildpack_tools.program("dumb-init") == packaged / "bin" / "dumb-init"
    monkeypatch.setenv("BUILDPACK_TOOLS_DIR", "/home/builder/.cache/leanengine-python-buildpack/tools-1")
    assert buildpack_tools.tools_dir() == Path("/home/builder/.cache/leanengine-python-buildpack/tools-1")

