"""Layers linked into the slug (cache/linked_trees.py): links where one
filesystem holds both, copies across filesystems, private copies before the
app's commands, and the record of a layer's files that catches a write in place."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_buildpack.cache import linked_trees

OTHER_FILESYSTEM = Path("/dev/shm")  # tmpfs, where /tmp is not


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    tree = tmp_path / "layer" / "python"
    (tree / "lib" / "pkg").mkdir(parents=True)
    (tree / "lib" / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    (tree / "bin").mkdir()
    (tree / "bin" / "python3").write_text("#!/bin/sh\n")
    (tree / "bin" / "python3").chmod(0o755)
    (tree / "bin" / "python").symlink_to("python3")
    linked_trees.write_manifest(tree, tree.parent / linked_trees.MANIFEST)
    return tree


@pytest.fixture
def elsewhere() -> Iterator[Path]:
    if not OTHER_FILESYSTEM.is_dir() or os.stat(OTHER_FILESYSTEM).st_dev == os.stat("/tmp").st_dev:
        pytest.fail(f"{OTHER_FILESYSTEM} must be another filesystem than /tmp for this test")
    directory = OTHER_FILESYSTEM / f"linked-trees-test-{os.getpid()}"
    directory.mkdir()
    yield directory
    shutil.rmtree(directory)


def inode(path: Path) -> int:
    return path.stat().st_ino


def test_on_one_filesystem_the_tree_is_linked(layer: Path, tmp_path: Path) -> None:
    slug = tmp_path / "slug" / "python"
    slug.parent.mkdir()
    assert linked_trees.link_or_copy(layer, slug)
    assert inode(slug / "lib/pkg/__init__.py") == inode(layer / "lib/pkg/__init__.py")
    assert (slug / "bin" / "python").is_symlink()
    assert os.access(slug / "bin" / "python3", os.X_OK)


def test_across_filesystems_the_tree_is_copied(layer: Path, elsewhere: Path) -> None:
    slug = elsewhere / "python"
    assert not linked_trees.link_or_copy(layer, slug)
    assert (slug / "lib/pkg/__init__.py").read_text() == "VALUE = 1\n"
    assert (slug / "bin" / "python").is_symlink()


def test_unshare_gives_private_files_and_keeps_the_layer(layer: Path, tmp_path: Path) -> None:
    slug = tmp_path / "slug" / "python"
    slug.parent.mkdir()
    linked_trees.link_or_copy(layer, slug)
    linked_trees.unshare(slug)
    assert inode(slug / "lib/pkg/__init__.py") != inode(layer / "lib/pkg/__init__.py")
    with open(slug / "lib/pkg/__init__.py", "a") as in_place:
        in_place.write("VALUE = 2\n")
    assert (layer / "lib/pkg/__init__.py").read_text() == "VALUE = 1\n"
    assert linked_trees.matches_manifest(layer, layer.parent / linked_trees.MANIFEST)
    assert sorted(p.name for p in slug.parent.iterdir()) == ["python"], "no private or retired tree left"


@pytest.mark.parametrize("change", ["write in place", "add", "remove"])
def test_the_manifest_catches_a_write_through_a_link(layer: Path, tmp_path: Path, change: str) -> None:
    slug = tmp_path / "slug" / "python"
    slug.parent.mkdir()
    linked_trees.link_or_copy(layer, slug)
    manifest = layer.parent / linked_trees.MANIFEST
    assert linked_trees.matches_manifest(layer, manifest)
    if change == "write in place":
        with open(slug / "lib/pkg/__init__.py", "a") as in_place:
            in_place.write("VALUE = 2\n")
    elif change == "add":
        (layer / "lib/pkg/extra.py").write_text("")
    else:
        (layer / "lib/pkg/__init__.py").unlink()
    assert not linked_trees.matches_manifest(layer, manifest)


def test_replacing_a_linked_file_by_rename_leaves_the_layer_intact(layer: Path, tmp_path: Path) -> None:
    """How pip, uv and the buildpack's own rewrites change a file."""
    slug = tmp_path / "slug" / "python"
    slug.parent.mkdir()
    linked_trees.link_or_copy(layer, slug)
    (slug / "lib/pkg/.new").write_text("VALUE = 3\n")
    os.replace(slug / "lib/pkg/.new", slug / "lib/pkg/__init__.py")
    (slug / "bin" / "python3").unlink()
    assert linked_trees.matches_manifest(layer, layer.parent / linked_trees.MANIFEST)


def test_a_missing_or_unreadable_manifest_never_matches(layer: Path) -> None:
    assert not linked_trees.matches_manifest(layer, layer.parent / "absent.json")
    (layer.parent / "broken.json").write_text("{")
    assert not linked_trees.matches_manifest(layer, layer.parent / "broken.json")
