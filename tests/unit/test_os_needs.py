"""`.lean/os-needs.json` (image/os_needs.py): remembered by what it depends on,
so an unchanged rebuild reads no ELF file again, and found afresh on any change."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from python_buildpack.image import os_needs


class Remembered:
    """The build cache's recall/remember, in memory."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, str], dict[str, Any]] = {}

    def recall(self, name: str, key: str) -> dict[str, Any] | None:
        return self.documents.get((name, key))

    def remember(self, name: str, key: str, document: dict[str, Any]) -> None:
        self.documents[(name, key)] = document


@pytest.fixture
def slug(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir()
    shutil.copy2("/bin/true", tmp_path / "bin" / "true")  # a real ELF executable, needs libc
    (tmp_path / "bin" / "script").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "script").chmod(0o755)
    return tmp_path


def test_the_needs_are_remembered_and_found_again_when_an_elf_file_changes(
        slug: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    memo = Remembered()
    first = os_needs.find_needs(slug, memo)
    assert "libc.so.6" in first["libraries"]
    read = []
    original = os_needs._needs_of
    monkeypatch.setattr(os_needs, "_needs_of", lambda *args: read.append(args) or original(*args))
    # A shell script changing (relocated into another build directory) is no ELF input.
    (slug / "bin" / "script").write_text("#!/bin/sh\n# another build directory\n")
    assert os_needs.find_needs(slug, memo) == first
    assert read == [], "an unchanged slug read its ELF files again"
    with open(slug / "bin" / "true", "ab") as elf:
        elf.write(b"\0")
    assert os_needs.find_needs(slug, memo) == first
    assert len(read) == 1, "a changed ELF file did not make the needs be found again"
