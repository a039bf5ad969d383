"""What the slug needs from the operating system under it, recorded at compile
time into `.lean/os-needs.json` for bin/image's base check.

- `libraries`: each soname the slug's ELF files (the runtime, C extensions,
  systemDependencies) need and the slug does not ship itself, with the Debian
  package that provides it on the build image (`libssl.so.3`: `libssl3`);
- `glibc`: the newest GLIBC_x.y symbol version they need;
- `architecture`: the build machine's, in OCI's words (amd64, arm64).

readelf (binutils, which the buildpack already needs for strip) reads the ELF
files in batches; dpkg's file lists name the packages.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import stat
from pathlib import Path
from typing import Any, Protocol

from python_buildpack.support import commands, partial_files

NEEDS_FILE = Path(".lean") / "os-needs.json"
_ARCHITECTURES = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "i686": "386",
}
_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
_GLIBC = re.compile(r"Name: GLIBC_(\d+(?:\.\d+)+)")
_BATCH = 200
_OPTIONAL_MODULES = {"tkinter", "nis", "readline", "curses", "curses_panel", "dbm", "gdbm"}
_ELF_MAGIC = b"\x7fELF"
_DPKG_INFO = Path("/var/lib/dpkg/info")
_MEMO_NAME = "os-needs"


class Memo(Protocol):
    """Documents remembered by key (the build cache)."""

    def recall(self, name: str, key: str) -> dict[str, Any] | None: ...

    def remember(self, name: str, key: str, document: dict[str, Any]) -> None: ...


def architecture() -> str:
    machine = platform.machine()
    return _ARCHITECTURES.get(machine, machine)


def _elf_files(slug: Path) -> tuple[list[tuple[str, int, int]], set[str]]:
    """(path, size, mtime_ns) of each ELF file, and the names of the shared
    objects the slug ships (sonames it needs that it ships itself are fine)."""
    elves, shipped = [], set()
    for directory, subdirectories, files in os.walk(slug):
        subdirectories.sort()
        for name in sorted(files):
            if ".so" in name:
                shipped.add(name)
            path = os.path.join(directory, name)
            status = os.lstat(path)
            if stat.S_ISREG(status.st_mode) and (".so" in name or status.st_mode & 0o111) and _is_elf(path):
                elves.append((path, status.st_size, status.st_mtime_ns))
    return elves, shipped


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == _ELF_MAGIC
    except OSError:
        return False


def _memo_key(slug: Path, elves: list[tuple[str, int, int]], shipped: set[str]) -> str:
    """What the needs depend on: the ELF files as they are, the shared objects
    shipped, and the host's package lists (dpkg's info directory changes with them)."""
    digest = hashlib.sha256(str(os.stat(_DPKG_INFO).st_mtime_ns if _DPKG_INFO.is_dir() else 0).encode())
    prefix = len(str(slug))
    for path, size, mtime in elves:
        digest.update(f"{path[prefix:]}\0{size}\0{mtime}\n".encode())
    digest.update("\0".join(sorted(shipped)).encode())
    return digest.hexdigest()


def _optional(path: Path) -> bool:
    """Standard-library extensions no web app imports (tkinter, nis, readline, curses,
    dbm): a base without their libraries is fine; the check only mentions them."""
    return path.parent.name == "lib-dynload" and path.name.split(".", 1)[0].lstrip("_") in _OPTIONAL_MODULES


def _read_elves(elves: list[Path]) -> tuple[set[str], set[str], str | None]:
    needed: set[str] = set()
    optional: set[str] = set()
    glibc: tuple[int, ...] = ()
    for start in range(0, len(elves), _BATCH):
        batch = elves[start : start + _BATCH]
        try:
            text = commands.capture(["readelf", "--dynamic", "--version-info", "--wide", *map(str, batch)])
        except (commands.CommandFailed, OSError):
            continue
        # One file's section starts with "File: PATH" (readelf names each when given several).
        sections = re.split(r"^File: (.+)$", text, flags=re.MULTILINE)
        for index in range(1, len(sections) - 1, 2):
            names = set(_NEEDED.findall(sections[index + 1]))
            (optional if _optional(Path(sections[index])) else needed).update(names)
            for version in _GLIBC.findall(sections[index + 1]):
                glibc = max(glibc, tuple(int(part) for part in version.split(".")))
        if len(sections) == 1:  # a single file: no header
            needed.update(_NEEDED.findall(text))
            for version in _GLIBC.findall(text):
                glibc = max(glibc, tuple(int(part) for part in version.split(".")))
    return needed, optional - needed, ".".join(map(str, glibc)) or None


def _packages_of(sonames: set[str]) -> dict[str, str]:
    """soname -> the Debian package that has it on this machine ('' if none), from
    dpkg's file lists (read directly: `dpkg-query --search` takes 0.5 s a call)."""
    found = dict.fromkeys(sonames, "")
    wanted = {f"/{name}" for name in sonames}
    for listing in sorted(_DPKG_INFO.glob("*.list")) if sonames else []:
        package = listing.name[: -len(".list")].split(":", 1)[0]
        try:
            lines = listing.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            slash = line.rfind("/")
            if slash >= 0 and line[slash:] in wanted and "lib" in line[:slash]:
                name = line[slash + 1 :]
                found[name] = found[name] or package
    return found


def find_needs(slug: Path, memo: Memo | None = None) -> dict[str, Any]:
    """The needs; memo remembers them by what they depend on, as reading every
    ELF file and dpkg's lists costs a third of a second on each build."""
    elves, shipped = _elf_files(slug)
    key = _memo_key(slug, elves, shipped) if memo else ""
    known = memo.recall(_MEMO_NAME, key) if memo else None
    if known is not None:
        return known
    needs = _needs_of([Path(path) for path, _size, _mtime in elves], shipped)
    if memo:
        memo.remember(_MEMO_NAME, key, needs)
    return needs


def _needs_of(elves: list[Path], shipped: set[str]) -> dict[str, Any]:
    needed, optional, glibc = _read_elves(elves)
    packages = _packages_of({name for name in needed | optional if name not in shipped})
    return {
        "architecture": architecture(),
        "glibc": glibc,
        "libraries": {name: package for name, package in packages.items() if name in needed},
        "optional_libraries": {name: package for name, package in packages.items() if name not in needed},
    }


def record(build_dir: Path, memo: Memo | None = None) -> None:
    """Write `.lean/os-needs.json`; never fails a build (bin/image finds the needs
    itself when the file is missing)."""
    with contextlib.suppress(OSError):
        partial_files.write_json_atomically(build_dir / NEEDS_FILE, find_needs(build_dir, memo))


def read_needs(slug: Path) -> dict[str, Any]:
    try:
        found = json.loads((slug / NEEDS_FILE).read_text())
        if isinstance(found, dict) and isinstance(found.get("libraries"), dict):
            return found
    except (OSError, ValueError):
        pass
    return find_needs(slug)
