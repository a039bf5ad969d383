"""Bytecode that stays valid in a layer whose files all have one mtime.

pip writes timestamp-based ``.pyc`` files (the source's mtime and size in the
header). Layers normalise every mtime, so those would all be stale: the app
would recompile at each start, into a layer it may not be able to write.
Python 3.7+ reads checked hash-based ``.pyc`` files (PEP 552), valid whatever the
mtime: the header gets the source's hash instead. Older lines (2.7, 3.6) have no
such format, so their header's mtime becomes the normalised one.

The hash is keyed by the *pyc's* magic number (importlib's
``_RAW_MAGIC_NUMBER``), so bytecode of any 3.7+ line is converted here, by the
buildpack's own Python, without running the slug's interpreter. The slug is
only read: converted bytes go into the layer.
"""

from __future__ import annotations

import _imp
from pathlib import Path

_FLAGS_CHECKED_HASH = 0b11
_FIRST_HASH_MAGIC = 3392  # 3.7's magic numbers start at 3390..3394 (PEP 552 in 3.7b1)
_PYTHON2_MAGICS = 20000  # 2.x magic numbers are 62xxx


def source_of(pyc: Path) -> Path | None:
    """`pkg/__pycache__/mod.cpython-312.pyc` -> `pkg/mod.py`; 2.7's `mod.pyc` -> `mod.py`."""
    if pyc.parent.name == "__pycache__":
        return pyc.parent.parent / (pyc.name.split(".", 1)[0] + ".py")
    return pyc.with_suffix(".py")


def normalise(data: bytes, source: bytes, source_mtime: int, epoch: int) -> bytes | None:  # noqa: PLR0911
    """The pyc as it should be in the layer; None when it was stale (or unreadable)
    and is better left out, since Python would discard it anyway."""
    if len(data) < 8:
        return None
    magic_number = int.from_bytes(data[0:2], "little")
    mtime = int.from_bytes(data[4:8], "little")
    if magic_number >= _PYTHON2_MAGICS:  # 2.x: magic, mtime
        if mtime != source_mtime & 0xFFFFFFFF:
            return None
        return data[:4] + (epoch & 0xFFFFFFFF).to_bytes(4, "little") + data[8:]
    if magic_number < _FIRST_HASH_MAGIC:  # 3.3-3.6: magic, mtime, size
        if (
            len(data) < 12
            or mtime != source_mtime & 0xFFFFFFFF
            or int.from_bytes(data[8:12], "little") != len(source) & 0xFFFFFFFF
        ):
            return None
        return data[:4] + (epoch & 0xFFFFFFFF).to_bytes(4, "little") + data[8:]
    # 3.7+: magic, flags, then mtime and size, or the source hash.
    if len(data) < 16:
        return None
    flags = int.from_bytes(data[4:8], "little")
    if flags & 0b1:  # already hash-based: valid whatever the mtimes
        return data
    mtime = int.from_bytes(data[8:12], "little")
    if (
        mtime != source_mtime & 0xFFFFFFFF
        or int.from_bytes(data[12:16], "little") != len(source) & 0xFFFFFFFF
    ):
        return None
    source_hash = _imp.source_hash(int.from_bytes(data[0:4], "little"), source)
    return data[:4] + _FLAGS_CHECKED_HASH.to_bytes(4, "little") + source_hash + data[16:]
