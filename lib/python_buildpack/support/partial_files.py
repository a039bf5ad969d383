"""Files written beside their final name, as ``.<name>.<pid>.part``, then renamed
into place: readers never see half a file. A build killed mid-write leaves its
partial behind; the next build removes the partials whose writer is gone
(found by the stress suite: each killed download left 14 MB in the cache)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

_PARTIAL = re.compile(r"\A\..+\.(\d+)\.part\Z")


def partial_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.part")


def write_json_atomically(path: Path, value: object) -> None:
    partial = partial_path(path)
    partial.write_text(json.dumps(value, indent=1, sort_keys=True))
    os.replace(partial, path)


def _writer_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_abandoned(directory: Path) -> None:
    """Delete partials in directory whose writing process no longer runs."""
    if not directory.is_dir():
        return
    for path in directory.iterdir():
        match = _PARTIAL.match(path.name)
        if match and not _writer_alive(int(match.group(1))):
            path.unlink(missing_ok=True)
