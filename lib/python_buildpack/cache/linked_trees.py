"""Layers restored into the slug as hard links, and what keeps them intact.

Copying a 60 MB, 3,000-file install layer costs more than a second on a disk
without reflinks; hard-linking it costs a few hundredths. But a linked file
is one inode with two names: writing it in place through the slug writes the
cached layer too. So:

- who writes into a linked tree, and how:
  - the installer updating in place: pip unlinks a file before writing it
    anew, uv replaces files by rename, and both uninstall by removing;
  - the buildpack's own rewrites (relocation, editable installs' paths and
    their RECORD) write a new file and rename it over the old one;
  - trimming for run time only deletes;
  - the app's own build commands and bin/post_compile may do anything: the
    slug's linked trees are made private copies (`unshare`) before they run;
  - the app itself, imported to find `application`, started by the smoke
    check, and Django's collectstatic, read their packages and are not
    expected to write them;
- every layer records its files' sizes and modification times when it is
  saved (`write_manifest`), and a restore first checks the layer against
  them (`matches_manifest`): a layer changed through a link by anyone,
  during this build or after it (a platform running the app in the build
  directory), is discarded and rebuilt, never restored.

Where the cache and the slug are on different filesystems, or the kernel
refuses the link (fs.protected_hardlinks for another user's files), trees
are copied as before. The slug holds ordinary files either way: a platform
that tars or moves it sees no difference.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

from python_buildpack.support import commands

MANIFEST = "files.json"


def link_or_copy(source: Path, destination: Path) -> bool:
    """Make destination a tree of hard links to source's files, or a copy where
    links cannot be made. True when linked."""
    if _same_filesystem(source, destination.parent):
        try:
            commands.capture(["cp", "-al", str(source), str(destination)])
            return True
        except commands.CommandFailed:
            shutil.rmtree(destination, ignore_errors=True)
    copy_tree(source, destination)
    return False


def copy_tree(source: Path, destination: Path) -> None:
    # cp keeps links and modes and is several times faster than shutil.copytree
    # on thousands of small files; --reflink shares blocks where the filesystem can.
    commands.capture(["cp", "-a", "--reflink=auto", str(source), str(destination)])


def unshare(tree: Path) -> None:
    """Replace a linked tree by a private copy, so writing into it in place no
    longer writes the cached layer (copy-on-write, done by hand, before the
    app's own commands run)."""
    private = tree.with_name(f".{tree.name}.private")
    retired = tree.with_name(f".{tree.name}.linked")
    for leftover in (private, retired):
        shutil.rmtree(leftover, ignore_errors=True)
    copy_tree(tree, private)
    os.replace(tree, retired)
    os.replace(private, tree)
    shutil.rmtree(retired, ignore_errors=True)  # unlinking leaves the layer's names


def _same_filesystem(source: Path, destination_parent: Path) -> bool:
    try:
        return os.stat(source).st_dev == os.stat(destination_parent).st_dev
    except OSError:
        return False


def _files(tree: Path) -> dict[str, list[int]]:
    """relative path -> [size, mtime_ns] of every regular file under tree."""
    found: dict[str, list[int]] = {}
    prefix = len(str(tree)) + 1
    for directory, _subdirectories, names in os.walk(tree):
        for name in names:
            path = os.path.join(directory, name)
            status = os.lstat(path)
            if stat.S_ISREG(status.st_mode):
                found[path[prefix:]] = [status.st_size, status.st_mtime_ns]
    return found


def write_manifest(tree: Path, manifest: Path) -> None:
    manifest.write_text(json.dumps(_files(tree), separators=(",", ":")))


def matches_manifest(tree: Path, manifest: Path) -> bool:
    """Whether tree's files are still what was saved: none changed, added or removed."""
    try:
        saved = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(saved, dict) and _files(tree) == saved
