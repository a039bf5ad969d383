"""The unpacked system packages in the slug (``.lean/system``), made to work
from wherever the slug is moved, and the environment that points programs at it.

Unpacking a .deb runs none of its maintainer scripts, so what they would have
done is done here: alternatives links, absolute links, pkg-config prefixes.
Everything in the tree is relative to the tree, so the tree can be cached and
restored into another build directory unchanged.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.support import commands
from python_buildpack.system.system_registry import Hook

FONTS_CONF = "fonts.conf"
_TRIPLET = f"{platform.machine()}-linux-gnu"  # Debian's multiarch directory name
# Standard library directories first, as the dynamic loader would search them.
_STANDARD_LIBRARY_DIRS = (f"lib/{_TRIPLET}", f"usr/lib/{_TRIPLET}", "lib", "usr/lib")
_PKGCONFIG_GLOBS = ("usr/lib/*/pkgconfig/*.pc", "usr/lib/pkgconfig/*.pc", "usr/share/pkgconfig/*.pc")
_PC_USR_VARIABLE = re.compile(r"^(\w+)=/usr(?=/|$)", re.MULTILINE)
# Message translations go too: programs then speak English (C.UTF-8), as in slim images.
_UNUSED_SHARE_DIRS = ("man", "info", "lintian", "bug", "bash-completion", "menu", "applications",
                      "locale")

_FONTS_CONF_TEXT = """\
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<!-- Written by the LeanEngine Python buildpack: the image's fonts and the slug's. -->
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir prefix="relative">usr/share/fonts</dir>
  <cachedir prefix="xdg">fontconfig</cachedir>
</fontconfig>
"""


@dataclass(frozen=True)
class TreeEnvironment:
    """What programs need to find the tree; every path relative to its root."""

    bin_dirs: tuple[str, ...]
    library_dirs: tuple[str, ...]
    include_dirs: tuple[str, ...]
    pkgconfig_dirs: tuple[str, ...]
    variables: Mapping[str, str]  # name -> path in the tree

    def run_time_script(self, tree_from_home: str) -> str:
        """The .profile.d script: paths under $HOME, where the platform puts the slug."""
        base = f"$HOME/{tree_from_home}"
        lines = ["# Written by the LeanEngine Python buildpack: the app's system dependencies."]
        if self.bin_dirs:
            lines.append(f'export PATH="{_joined(base, self.bin_dirs)}:$PATH"')
        if self.library_dirs:
            lines.append(f'export LD_LIBRARY_PATH="{_joined(base, self.library_dirs)}'
                         '${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"')
        lines += [f'export {name}="{base}/{path}"' for name, path in sorted(self.variables.items())]
        return "\n".join(lines) + "\n"

    def build_variables(self, root: Path, base_env: Mapping[str, str]) -> dict[str, str]:
        """Variables for pip and the app's commands: run-time ones plus headers,
        libraries to link and pkg-config files, so packages build against the tree."""
        found = {name: str(root / path) for name, path in self.variables.items()}
        for name, dirs in (("LD_LIBRARY_PATH", self.library_dirs), ("LIBRARY_PATH", self.library_dirs),
                           ("CPATH", self.include_dirs), ("PKG_CONFIG_PATH", self.pkgconfig_dirs)):
            if dirs:
                found[name] = _joined(str(root), dirs, base_env.get(name))
        return found

    def path_entries(self, root: Path) -> list[str]:
        return [str(root / directory) for directory in self.bin_dirs]


def _joined(base: str, dirs: Sequence[str], rest: str | None = None) -> str:
    return ":".join([f"{base}/{directory}" for directory in dirs] + ([rest] if rest else []))


def finish(root: Path, hooks: Iterable[Hook]) -> list[str]:
    """Do what the packages' maintainer scripts would have; return the
    libraries still missing for the tree's programs (name: library)."""
    hooks = list(hooks)
    remove_unused(root)
    _fix_links(root)
    for hook in hooks:
        _add_command_links(root, hook.command_links)
    _relocate_pkgconfig(root)
    _merge_image_headers(root)
    if any(hook.fonts for hook in hooks):
        (root / FONTS_CONF).write_text(_FONTS_CONF_TEXT)
    missing = _missing_libraries(root)
    if _link_alternative_libraries(root, missing):
        missing = _missing_libraries(root)
    return missing


def describe(root: Path, hooks: Iterable[Hook]) -> TreeEnvironment:
    hooks = list(hooks)
    variables: dict[str, str] = {}
    for hook in hooks:
        for name, pattern in hook.directory_variables.items():
            matches = sorted(root.glob(pattern))
            if matches:
                variables[name] = str(matches[-1].relative_to(root))
    if any(hook.fonts for hook in hooks) and (root / FONTS_CONF).is_file():
        variables["FONTCONFIG_FILE"] = FONTS_CONF
    include = [d for d in ("usr/include", f"usr/include/{_TRIPLET}") if (root / d).is_dir()]
    pkgconfig = sorted({str(pc.parent.relative_to(root)) for pattern in _PKGCONFIG_GLOBS
                        for pc in root.glob(pattern)})
    return TreeEnvironment(
        bin_dirs=tuple(d for d in ("usr/local/bin", "usr/bin", "bin") if (root / d).is_dir()),
        library_dirs=tuple(library_dirs(root)),
        include_dirs=tuple(include),
        pkgconfig_dirs=tuple(pkgconfig),
        variables=variables,
    )


def library_dirs(root: Path) -> list[str]:
    """Every directory of the tree holding shared libraries (lib*.so*), standard ones first."""
    found = set()
    for directory, _subdirs, files in os.walk(root):
        if any(name.startswith("lib") and ".so" in name for name in files):
            found.add(str(Path(directory).relative_to(root)))
    standard = [d for d in _STANDARD_LIBRARY_DIRS if d in found]
    return standard + sorted(found - set(standard))


def remove_unused(root: Path) -> None:
    """Manuals and documentation a slug never reads (copyright files stay)."""
    for name in _UNUSED_SHARE_DIRS:
        shutil.rmtree(root / "usr" / "share" / name, ignore_errors=True)
    docs = root / "usr" / "share" / "doc"
    for path in sorted(docs.rglob("*"), reverse=True) if docs.is_dir() else []:
        if path.is_dir() and not path.is_symlink():
            with_contents = any(path.iterdir())
            if not with_contents:
                path.rmdir()
        elif path.name != "copyright":
            path.unlink()


def _symlinks(root: Path) -> list[Path]:
    return [Path(directory) / name for directory, subdirs, files in os.walk(root)
            for name in files + subdirs if os.path.islink(os.path.join(directory, name))]


def _fix_links(root: Path) -> None:
    """Absolute links into the tree become relative (they must survive the move);
    dangling links to files the build image has (a -dev package's libfoo.so next to
    the image's libfoo.so.1) point at the image's file."""
    for link in _symlinks(root):
        target = os.readlink(link)
        if os.path.isabs(target):
            inside = root / target.lstrip("/")
            if os.path.lexists(inside):
                _relink(link, os.path.relpath(inside, link.parent))
        elif not link.exists():
            on_image = Path("/") / link.parent.relative_to(root) / target
            if on_image.exists():
                _relink(link, os.path.normpath(on_image))


def _relink(link: Path, target: str) -> None:
    link.unlink()
    link.symlink_to(target)


def _add_command_links(root: Path, links: Mapping[str, str]) -> None:
    bin_dir = root / "usr" / "bin"
    for name, target in links.items():
        if (bin_dir / target).exists():
            link = bin_dir / name
            if os.path.lexists(link):
                link.unlink()
            link.symlink_to(target)


def _relocate_pkgconfig(root: Path) -> None:
    """prefix=/usr becomes ${pcfiledir}/../.., so pkg-config finds the tree's
    headers and libraries wherever the tree is."""
    for pattern in _PKGCONFIG_GLOBS:
        for pc_file in root.glob(pattern):
            if pc_file.is_symlink():
                continue
            relative_usr = os.path.relpath(root / "usr", pc_file.parent)
            text = pc_file.read_text(errors="replace")
            pc_file.write_text(_PC_USR_VARIABLE.sub(rf"\1=${{pcfiledir}}/{relative_usr}", text))


def _merge_image_headers(root: Path, image_include: Path = Path("/usr/include")) -> None:
    """Header directories split between the image and the tree (xcb/render.h here,
    its `#include "xcb.h"` in the image's xcb/) get links to the image's headers,
    because a quoted include looks only beside the including file."""
    tree_include = root / "usr" / "include"
    if not tree_include.is_dir():
        return
    for directory, subdirs, _files in os.walk(tree_include):
        here = Path(directory)
        on_image = image_include / here.relative_to(tree_include)
        if here == tree_include or not on_image.is_dir():
            continue
        for entry in on_image.iterdir():
            if not os.path.lexists(here / entry.name):
                (here / entry.name).symlink_to(entry)
                subdirs[:] = [name for name in subdirs if name != entry.name]


def _programs(root: Path) -> list[Path]:
    candidates = [p for d in ("usr/bin", "bin") if (root / d).is_dir() for p in (root / d).iterdir()]
    return [path for path in candidates if path.is_file() and _is_elf(path)]


def _is_elf(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def _missing_libraries(root: Path) -> list[str]:
    """`program: library` for each library the dynamic loader cannot find."""
    env = {"PATH": "/usr/bin:/bin",
           "LD_LIBRARY_PATH": ":".join(str(root / d) for d in library_dirs(root))}
    missing = []
    for program in _programs(root):
        try:
            listing = commands.capture(["ldd", str(program)], env=env)
        except commands.CommandFailed:
            continue  # not a dynamic executable
        missing += [f"{program.name}: {line.split()[0]}" for line in listing.splitlines()
                    if "not found" in line]
    return missing


def _link_alternative_libraries(root: Path, missing: list[str]) -> bool:
    """Libraries Debian reaches through update-alternatives (libblas.so.3 lives in
    .../blas/) get a link where the loader looks. True if any link was added."""
    target_dir = root / "usr" / "lib" / _TRIPLET
    linked = False
    for library in sorted({entry.split(": ", 1)[1] for entry in missing}):
        candidates = sorted(root.rglob(library))
        if candidates and target_dir.is_dir() and not os.path.lexists(target_dir / library):
            (target_dir / library).symlink_to(os.path.relpath(candidates[0], target_dir))
            linked = True
    return linked
