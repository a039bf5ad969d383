"""Reading one small file of the app's upload with care: a link that leads out
of the app, a FIFO or a directory under the file's name is an error, and no
more than a little over the file's size limit is read."""

from __future__ import annotations

from pathlib import Path

from python_buildpack.reporting import errors


def app_file(app_dir: Path, name: str) -> Path | None:
    """The file, None when absent; an error when it leads out of the app or is no regular file."""
    path = app_dir / name
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() and not path.resolve().is_relative_to(app_dir.resolve()):
        raise errors.link_leaves_app(name)
    if not path.is_file():
        raise errors.file_not_regular(name)
    return path


def read_app_file(app_dir: Path, name: str, max_bytes: int) -> bytes | None:
    """The file's first max_bytes + 1 bytes (more means: too large); None when absent."""
    path = app_file(app_dir, name)
    if path is None:
        return None
    with open(path, "rb") as handle:
        return handle.read(max_bytes + 1)
