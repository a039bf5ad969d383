"""The base check: file lists read from layer streams (hostile entries refused,
whiteouts applied), and what a base must have."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Iterator

import pytest
from python_buildpack.image import base
from python_buildpack.image.config import BaseImage
from python_buildpack.reporting import errors

STATUS = b"Package: bash\nVersion: 5.2\n\nPackage: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u14\n"


def layer(*entries: tuple[str, str, str]) -> bytes:
    """(type, name, link or content) -> a gzipped tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for kind, name, extra in entries:
            info = tarfile.TarInfo(name)
            data = b""
            if kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, extra
            elif kind == "hard":
                info.type, info.linkname = tarfile.LNKTYPE, extra
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "dev":
                info.type = tarfile.CHRTYPE
            else:
                data = extra.encode() if extra else b""
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue())


def stream(data: bytes, size: int = 7) -> Iterator[bytes]:
    for start in range(0, len(data), size * 1000):
        yield data[start:start + size * 1000]


BASE = BaseImage("localhost:5000/base:1", {}, [], "sha256:" + "0" * 64)


def listing(*layers: bytes) -> base.BaseFiles:
    return base.list_files(BASE, (stream(data) for data in layers))


def debian_layer() -> bytes:
    return layer(("dir", "./", ""), ("sym", "./lib", "usr/lib"), ("sym", "./bin", "usr/bin"),
                 ("file", "./usr/bin/bash", "#"), ("dev", "./dev/null", ""),
                 ("file", "./usr/lib/x86_64-linux-gnu/libc.so.6", "elf"),
                 ("sym", "./usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3.0"),
                 ("sym", "./etc/alternatives/awk", "/usr/bin/mawk"),
                 ("sym", "./etc/mtab", "../proc/self/mounts"),
                 ("file", "./var/lib/dpkg/status", STATUS.decode()))


def test_a_debian_like_base_is_listed() -> None:
    files = listing(debian_layer())
    assert {"libc.so.6", "libssl.so.3"} <= files.libraries
    assert files.glibc == "2.36"
    assert files.has_bash


def test_whiteouts_remove_what_lower_layers_had() -> None:
    files = listing(debian_layer(), layer(("file", "./usr/lib/x86_64-linux-gnu/.wh.libssl.so.3", "")))
    assert "libssl.so.3" not in files.libraries
    assert "libc.so.6" in files.libraries
    opaque = listing(debian_layer(), layer(("file", "usr/lib/x86_64-linux-gnu/.wh..wh..opq", "")))
    assert "libc.so.6" not in opaque.libraries


@pytest.mark.parametrize("entry", [
    ("file", "../escape", "x"),
    ("file", "/etc/passwd", "x"),
    ("file", "usr/../../x", "x"),
    ("hard", "usr/lib/x", "/etc/shadow"),
    ("hard", "usr/lib/x", "../../etc/shadow"),
])
def test_hostile_entries_refuse_the_base(entry: tuple[str, str, str]) -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        listing(debian_layer(), layer(entry))
    assert raised.value.code == "base::unsafe-layer"


def test_a_layer_that_is_not_a_tar_refuses_the_base() -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        listing(gzip.compress(b"not a tar at all" * 100))
    assert raised.value.code == "base::unsafe-layer"


NEEDS = {"glibc": "2.35", "libraries": {"libc.so.6": "libc6", "libssl.so.3": "libssl3"},
         "optional_libraries": {"libtk8.6.so": "libtk8.6"}}


def test_check_passes_a_base_with_everything_and_mentions_optional_libraries() -> None:
    notices = base.check_base("b", listing(debian_layer()), NEEDS)
    assert len(notices) == 1
    assert notices[0].startswith("Without libtk8.6.so: standard modules")


def test_check_names_the_debian_packages_to_add() -> None:
    files = listing(debian_layer(), layer(("file", "./usr/lib/x86_64-linux-gnu/.wh.libssl.so.3", "")))
    with pytest.raises(errors.BuildpackError) as raised:
        base.check_base("b", files, NEEDS)
    assert raised.value.code == "base::missing-library"
    assert "libssl.so.3 (Debian package libssl3)" in raised.value.detail
    assert "apt-get install -y --no-install-recommends libssl3" in raised.value.hint


def test_check_refuses_an_older_glibc() -> None:
    files = base.BaseFiles(frozenset({"libc.so.6", "libssl.so.3"}), "2.31", True)
    with pytest.raises(errors.BuildpackError) as raised:
        base.check_base("b", files, NEEDS)
    assert raised.value.code == "base::old-glibc"
    assert "glibc 2.31" in raised.value.detail


def test_check_refuses_a_base_without_bash() -> None:
    files = base.BaseFiles(frozenset({"libc.so.6", "libssl.so.3"}), "2.36", False)
    with pytest.raises(errors.BuildpackError) as raised:
        base.check_base("b", files, NEEDS)
    assert raised.value.code == "base::missing-library"
