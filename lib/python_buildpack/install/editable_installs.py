"""Editable installs that keep working when the slug moves.

An editable install leaves the project's code in the app and puts pointers to
it into site-packages, as absolute paths of the build directory:

- a `.pth` file with the project's directory (setuptools' static layout,
  hatchling, flit, `setup.py develop`'s `easy-install.pth`);
- a finder module (`__editable___<name>_finder.py`) whose MAPPING holds the
  package directories, loaded by an `import` line of a `.pth` file;
- an `.egg-link` file (`setup.py develop`, Python 2.7 and old pips);
- `direct_url.json`, the source URL, which is only information.

The platform moves the slug, and a cached layer is restored into another
build directory, so each pointer is made relative to the file holding it:
`.pth` and `.egg-link` lines become relative paths (site.py and pkg_resources
join them to their own directory); path literals in finder modules become
expressions of `__file__`. We keep the installs editable rather than copy the
projects into site-packages: the code that runs is the code the app ships,
files the project reads beside its modules stay found, and an edit of that
code needs no reinstall. `direct_url.json` must hold an absolute URL; it is
re-pointed when a layer is restored elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path

_IMPORT_LINE = ("import ", "import\t")


def site_packages_of(python_home: Path) -> list[Path]:
    return sorted(path for path in python_home.glob("lib/python*/site-packages") if path.is_dir())


def make_relative(site_packages: Path, slug_root: Path) -> list[str]:
    """Rewrite the pointers into slug_root as relative ones; return the files changed."""
    root = str(slug_root)
    changed = []
    for path in _pointer_files(site_packages):
        text = path.read_text(errors="surrogateescape")
        if root not in text:
            continue
        if path.suffix == ".py":
            new = _relative_literals(text, root, path.parent)
        else:
            new = "".join(_relative_line(line, root, path.parent) for line in text.splitlines(True))
        if new != text:
            _rewrite(site_packages, path, new)
            changed.append(path.name)
    return changed


def references_to(site_packages: Path, old_root: str) -> list[str]:
    """Files imported at start-up that still name old_root: a layer with any is
    broken anywhere but where it was built."""
    return [path.name for path in _pointer_files(site_packages)
            if old_root in path.read_text(errors="surrogateescape")]


def repoint_direct_urls(site_packages: Path, old_root: str, new_root: str) -> None:
    """direct_url.json names the project's absolute URL: follow the restore."""
    old_url, new_url = f"file://{old_root}", f"file://{new_root}"
    for path in site_packages.glob("*.dist-info/direct_url.json"):
        text = path.read_text(errors="surrogateescape")
        if old_url in text:
            _rewrite(site_packages, path, text.replace(old_url, new_url))


def _pointer_files(site_packages: Path) -> list[Path]:
    """The files of site-packages that can point into the app: `.pth` and
    `.egg-link` files and top-level modules (finders)."""
    return sorted(path for pattern in ("*.pth", "*.egg-link", "*.py")
                  for path in site_packages.glob(pattern) if path.is_file() and not path.is_symlink())


def _relative_line(line: str, root: str, base: Path) -> str:
    """A path line of a `.pth` or `.egg-link` file, relative to the file's directory."""
    stripped = line.rstrip("\r\n")
    if stripped.startswith(_IMPORT_LINE) or not _is_under(stripped, root):
        return line
    return os.path.relpath(stripped, base) + line[len(stripped):]


def _relative_literals(source: str, root: str, base: Path) -> str:
    """Each string literal naming a path under root becomes that path computed
    from the module's own location (finder modules are generated, plain code)."""
    literal = re.compile("(['\"])(" + re.escape(root) + r"""(?:/[^'"\\\n]*)?)\1""")

    def relative(match: re.Match[str]) -> str:
        target = os.path.relpath(match.group(2), base)
        return ("__import__('os').path.normpath(__import__('os').path.join("
                f"__import__('os').path.dirname(__import__('os').path.abspath(__file__)), {target!r}))")

    return literal.sub(relative, source)


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _rewrite(site_packages: Path, path: Path, content: str) -> None:
    data = content.encode(errors="surrogateescape")
    _replace(path, data)
    if path.suffix == ".py":  # the old bytecode would win over the edited source
        for stale in (path.parent / "__pycache__").glob(f"{path.stem}.*.pyc"):
            stale.unlink()
    _update_record(site_packages, path, data)


def _update_record(site_packages: Path, path: Path, data: bytes) -> None:
    """Keep the owning distribution's RECORD true to the file's new hash and size."""
    name = path.relative_to(site_packages).as_posix()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    for record in site_packages.glob("*.dist-info/RECORD"):
        lines = record.read_text(errors="surrogateescape").splitlines(True)
        for index, line in enumerate(lines):
            if line.split(",", 1)[0] == name:
                lines[index] = f"{name},sha256={digest},{len(data)}\n"
                _replace(record, "".join(lines).encode(errors="surrogateescape"))
                return


def _replace(path: Path, data: bytes) -> None:
    """A new file renamed over the old one, never a write in place: the old one
    may be a hard link into the cache's install layer (cache/linked_trees.py)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.chmod(temporary, path.stat().st_mode)
    os.replace(temporary, path)
