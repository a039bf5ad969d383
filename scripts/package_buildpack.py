"""`make package`: the buildpack as platforms install it, in one tarball.

    python3 scripts/package_buildpack.py OUTPUT_DIR

Writes OUTPUT_DIR/leanengine-python-buildpack-<version>.tgz (the version is
BUILDPACK_VERSION of lib/python_buildpack/__init__.py, its one place): bin/,
lib/, requirements/ and README.md, plus the buildpack's own dependencies
(requirements/buildpack.txt) installed with `pip install --target vendor/`
for the interpreter running this script, and the lock managers
(requirements/managers/: Poetry, Pipenv) in vendor/managers/. A target directory is not a virtual
environment: it names no absolute path, so the tarball works wherever it is
unpacked, read-only, without PyPI. vendor/packaged-for records the
interpreter tag (`cpython-311`) that bin/_bootstrap.sh then requires: PyYAML's
C extension and the precompiled bytecode exist for that CPython minor only.

Bytecode is checked-hash (PEP 552): platforms reset mtimes when they unpack or
layer a buildpack (kpack: 1980-01-01), which makes timestamp bytecode stale,
and a read-only directory could not take a fresh one.
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = "leanengine-python-buildpack"
CONTENTS = ("bin", "lib", "requirements", "README.md")
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Files copied into slugs run on Python 2.7 too: they are not compiled here.
NOT_COMPILED = r"/data/"
MARKER = Path("vendor") / "packaged-for"
SOURCE_DATE_EPOCH = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01


def version() -> str:
    sys.path.insert(0, str(REPO / "lib"))
    from python_buildpack import BUILDPACK_VERSION  # noqa: PLC0415 -- constants only, from the tree

    return BUILDPACK_VERSION


def isolated_pip_env() -> dict[str, str]:
    """pip without the host's configuration or PIP_* variables (as bin/_bootstrap.sh)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", PYTHONNOUSERSITE="1")
    return env


def run(*argv: str | Path) -> None:
    print("+ " + " ".join(map(str, argv)), flush=True)
    subprocess.run(list(map(str, argv)), check=True, env=isolated_pip_env())


def copy_sources(root: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in CONTENTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)


def vendor_dependencies(root: Path, scratch: Path) -> Path:
    """The pinned dependencies in root/vendor, by a pip of this interpreter's
    version (a scratch venv: a distribution's python3 may lack pip). Returns
    the venv's python."""
    venv = scratch / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    cert = ["--cert", str(SYSTEM_CA_BUNDLE)] if SYSTEM_CA_BUNDLE.is_file() else []
    run(python, "-m", "pip", "install", "--quiet", "--no-compile", "--only-binary", ":all:",
        "--target", root / "vendor", "--requirement", root / "requirements" / "buildpack.txt", *cert)
    # Poetry and Pipenv (every package pinned): a source checkout installs them on
    # first use from PyPI; the package carries them, so no build needs the index.
    for pins in sorted((root / "requirements" / "managers").glob("*.txt")):
        run(python, "-m", "pip", "install", "--quiet", "--no-compile", "--only-binary", ":all:", "--no-deps",
            "--target", root / "vendor" / "managers" / pins.stem, "--requirement", pins, *cert)
    return python


def compile_bytecode(python: Path, root: Path) -> None:
    run(python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "checked-hash",
        "-x", NOT_COMPILED, root / "lib", root / "vendor")


def write_marker(python: Path, root: Path) -> None:
    facts = subprocess.run(
        [str(python), "-c", "import sys, platform; print(sys.implementation.cache_tag);"
         " print('%d.%d' % sys.version_info[:2]); print(platform.machine())"],
        check=True, capture_output=True, text=True).stdout
    (root / MARKER).write_text(facts)


def write_descriptor(python: Path, root: Path) -> None:
    """buildpack.toml: the packaged buildpack is a CNB too (rendered by the
    packaged code itself, with its vendored TOML writer)."""
    render = ("import sys; sys.path[0:0] = sys.argv[1:3];"
              " from python_buildpack.cnb.descriptor import buildpack_toml; print(buildpack_toml(), end='')")
    text = subprocess.run([str(python), "-I", "-c", render, str(root / "lib"), str(root / "vendor")],
                          check=True, capture_output=True, text=True).stdout
    (root / "buildpack.toml").write_text(text)


def write_buildpackage(python: Path, directory: Path, oci: Path) -> str:
    """The buildpackage image (lib/python_buildpack/cnb/buildpackage.py), by the
    packaged code with its vendored packages."""
    shutil.rmtree(oci, ignore_errors=True)
    code = ("import sys; from pathlib import Path; sys.path[0:0] = sys.argv[1:3];"
            " from python_buildpack.cnb.buildpackage import write_layout;"
            " print(write_layout(Path(sys.argv[3]), Path(sys.argv[4])))")
    argv = [str(python), "-I", "-c", code, str(directory / "lib"), str(directory / "vendor"),
            str(directory), str(oci)]
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout.strip()


def normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """Owned by root, one mtime: the same inputs give the same tarball."""
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    info.mtime = SOURCE_DATE_EPOCH
    return info


def write_tarball(root: Path, target: Path) -> None:
    # gzip's header carries no name and no time either.
    with open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as packed, \
            tarfile.open(fileobj=packed, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path in sorted(root.rglob("*")):
            archive.add(path, arcname=str(path.relative_to(root)), recursive=False, filter=normalised)


def write_cnb_directory(tarball: Path, target: Path) -> None:
    """The buildpack as `pack buildpack package` and kpack take a directory: the
    tarball's contents (buildpack.toml at the root) and a package.toml naming it."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():  # our own tarball: no links out, no absolute names
            archive.extract(member, target, **({"filter": "tar"} if sys.version_info >= (3, 12) else {}))
    (target.parent / "package.toml").write_text(f'[buildpack]\nuri = "{target.name}"\n')


def main(argv: list[str]) -> int:
    cnb = "--cnb" in argv
    argv = [arg for arg in argv if arg != "--cnb"]
    if len(argv) != 1:
        print("usage: python3 scripts/package_buildpack.py OUTPUT_DIR [--cnb]", file=sys.stderr)
        return 2
    output_dir = Path(argv[0]).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"{NAME}-{version()}.tgz"
    with tempfile.TemporaryDirectory(prefix="package-") as scratch:
        root = Path(scratch) / "buildpack"
        root.mkdir()
        copy_sources(root)
        python = vendor_dependencies(root, Path(scratch))
        compile_bytecode(python, root)
        write_marker(python, root)
        write_descriptor(python, root)
        made_for = (root / MARKER).read_text().split()[0]
        partial = target.with_suffix(".partial")
        write_tarball(root, partial)
        partial.replace(target)
        print(f"Wrote {target}: runs on {made_for} (the python3 that made it)")
        if cnb:
            directory = output_dir / "cnb" / target.name.removesuffix(".tgz")
            write_cnb_directory(target, directory)
            print(f"Wrote {directory} and {directory.parent / 'package.toml'} (pack build --buildpack)")
            oci = output_dir / "cnb" / "oci"
            digest = write_buildpackage(python, directory, oci)
            print(f"Wrote the buildpackage {digest} to the OCI layout {oci} (tag: the version)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
