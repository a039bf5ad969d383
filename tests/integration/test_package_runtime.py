"""bin/package-runtime: relocatable archives from the pyenv installs of this machine."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from helpers import RuntimeMirror, pyenv_prefix, run_bin

pytestmark = pytest.mark.integration

HIDE_PYENV = 'mount -t tmpfs none /root/.pyenv/versions && exec "$@"'
IMPORTS = "import ssl, sqlite3, zlib, ctypes, json, sys; print(sys.version.split()[0]); print(sys.prefix)"


def archive_of(mirror: RuntimeMirror, version: str) -> Path:
    manifest = json.loads((mirror.directory / "manifest.json").read_text())
    entry = next(r for r in manifest["runtimes"] if r["version"] == version)
    assert len(entry["sha256"]) == 64
    return mirror.directory / entry["url"]


@pytest.mark.parametrize("version", ["2.7.18", "3.6.15", "3.12.1"])
def test_archive_is_install_only_layout_and_lean(runtime_mirror: RuntimeMirror, version: str) -> None:
    runtime_mirror.ensure(version)
    with tarfile.open(archive_of(runtime_mirror, version)) as tar:
        names = tar.getnames()
    line = ".".join(version.split(".")[:2])
    assert all(name == "python" or name.startswith("python/") for name in names)
    assert f"python/lib/python{line}/os.py" in names
    assert "python/BUILDPACK-RUNTIME.json" in names
    assert not [n for n in names if "/test/" in n]
    bytecode = [n for n in names if n.endswith(".pyc")]
    # The standard library's and pip's, so that every Python a build starts imports without compiling.
    assert [n for n in bytecode if "/site-packages/pip/" in n]
    assert [n for n in bytecode if n.startswith(f"python/lib/python{line}/json/")]
    # Not what bin/compile drops, nor the sysconfig data that relocation rewrites.
    assert not [n for n in bytecode if "/idlelib/" in n or "/ensurepip/" in n or "_sysconfigdata" in n]
    assert not [n for n in names if n.endswith(".a")]
    site = f"python/lib/python{line}/site-packages/"
    top_level = {n[len(site):].split("/")[0] for n in names if n.startswith(site) and n != site}
    assert {t.split("-")[0] for t in top_level} <= {"pip", "README", "README.txt"}


@pytest.mark.parametrize("version", ["3.12.1", "3.13.0"])
def test_the_build_without_the_gil_is_recorded(runtime_mirror: RuntimeMirror, version: str) -> None:
    """Py_GIL_DISABLED as the interpreter reports it: these pyenv builds keep the GIL (this
    machine has no free-threaded CPython, so a `3.13t` archive is not packed here)."""
    runtime_mirror.ensure(version)
    manifest = json.loads((runtime_mirror.directory / "manifest.json").read_text())
    entry = next(r for r in manifest["runtimes"] if r["version"] == version)
    assert entry["free_threaded"] is False
    assert "freethreaded" not in entry["url"]
    with tarfile.open(archive_of(runtime_mirror, version)) as tar:
        member = tar.extractfile("python/BUILDPACK-RUNTIME.json")
        assert member is not None
        assert json.loads(member.read())["free_threaded"] is False


def unpacked(mirror: RuntimeMirror, version: str, into: Path) -> Path:
    mirror.ensure(version)
    with tarfile.open(archive_of(mirror, version)) as tar:
        tar.extractall(into, filter="tar")
    return into / "python"


@pytest.mark.parametrize("version", ["2.7.18", "3.6.15", "3.12.1"])
def test_unpacked_runtime_runs_with_pyenv_hidden(
    runtime_mirror: RuntimeMirror, tmp_path: Path, version: str
) -> None:
    python = unpacked(runtime_mirror, version, tmp_path) / "bin" / "python"
    line = ".".join(version.split(".")[:2])
    readelf = subprocess.run(["readelf", "-d", str(tmp_path / "python" / "bin" / f"python{line}")],
                             capture_output=True, text=True, check=True).stdout
    assert "$ORIGIN/../lib" in readelf
    assert "/root/.pyenv" not in readelf

    completed = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", HIDE_PYENV, "sh",
         str(python), "-c", IMPORTS],
        capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [version, str(tmp_path / "python")]


@pytest.mark.parametrize("version", ["3.6.15", "3.12.1"])
def test_unpacked_runtime_imports_the_standard_library_from_its_bytecode(
    runtime_mirror: RuntimeMirror, tmp_path: Path, version: str
) -> None:
    python = unpacked(runtime_mirror, version, tmp_path) / "bin" / "python"
    # -B: nothing written, so each module comes from the archive's bytecode or is compiled again.
    completed = subprocess.run([str(python), "-I", "-B", "-v", "-c", "import json"],
                               capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    loaded = [line for line in completed.stderr.splitlines() if line.startswith("# code object from")]
    assert [line for line in loaded if "/json/__pycache__/__init__." in line], completed.stderr[-2000:]
    assert "# bytecode is stale" not in completed.stderr


def test_refuses_a_directory_that_is_not_python(tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    result = run_bin("package-runtime", tmp_path, mirror)
    assert result.returncode == 1
    assert "package-runtime::not-a-python" in result.output
    assert "Traceback" not in result.output
    assert not (mirror / "manifest.json").exists()


def test_repacking_replaces_the_manifest_entry(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    prefix = pyenv_prefix("3.12.1")
    mirror = tmp_path / "mirror"
    for _ in range(2):
        assert run_bin("package-runtime", prefix, mirror).returncode == 0
    manifest = json.loads((mirror / "manifest.json").read_text())
    assert [r["version"] for r in manifest["runtimes"]] == ["3.12.1"]


def test_refuses_another_implementation(tmp_path: Path) -> None:
    # No PyPy on this machine: a stand-in interpreter answers the packer's
    # question the way PyPy's would.
    fake = tmp_path / "pypy3.10" / "bin" / "python3"
    fake.parent.mkdir(parents=True)
    fake.write_text('#!/bin/sh\necho \'{"implementation": "PyPy", "version": "3.10.14"}\'\n')
    fake.chmod(0o755)
    result = run_bin("package-runtime", fake.parents[1], tmp_path / "mirror")
    assert result.returncode == 1, result.output
    assert "[package-runtime::not-cpython]" in result.stderr
    assert "PyPy" in result.stderr
    assert not (tmp_path / "mirror" / "manifest.json").exists()
