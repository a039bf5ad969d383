"""A private package index for the tests: pypiserver (from PyPI) with an htpasswd
file, on 127.0.0.1, serving one wheel that exists nowhere else."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import free_port, http_get, write_private_index

PACKAGE = "leanengine-private-demo"


@dataclass(frozen=True)
class PrivateIndex:
    port: int
    user: str
    password: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/simple/"

    @property
    def url_with_credentials(self) -> str:
        return f"http://{self.user}:{urllib.parse.quote(self.password, safe='')}@127.0.0.1:{self.port}/simple/"

    def forms(self) -> list[str]:
        """Every way the password may be written: plain, URL-encoded, in a Basic header."""
        basic = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return [self.password, urllib.parse.quote(self.password, safe=""), basic]


def private_wheel(directory: Path) -> None:
    write_private_index(directory / "made")
    for wheel in (directory / "made").glob("*.whl"):
        shutil.move(wheel, directory / wheel.name)
    shutil.rmtree(directory / "made")


@contextlib.contextmanager
def pypi_server(root: Path) -> Iterator[PrivateIndex]:
    """pypiserver (from PyPI) on 127.0.0.1 serving one private wheel, behind htpasswd."""
    packages = root / "packages"
    packages.mkdir()
    private_wheel(packages)
    # A password with characters that URL-encoding changes, as real tokens have.
    index = PrivateIndex(free_port(), "deploy", secrets.token_hex(10) + "/+=")
    # Apache's {SHA} scheme, which pypiserver reads through passlib (importing passlib here
    # would warn about the deprecated crypt module, and warnings are errors in this suite).
    digest = base64.b64encode(hashlib.sha1(index.password.encode()).digest()).decode()  # noqa: S324
    (root / "htpasswd").write_text(f"{index.user}:{{SHA}}{digest}\n")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "pypi-server"), "run", "--host", "127.0.0.1", "--port", str(index.port),
         "--passwords", str(root / "htpasswd"), "--authenticate", "download,list,update",
         "--disable-fallback", str(packages)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if http_get(f"http://127.0.0.1:{index.port}/health", timeout=1)[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("pypiserver did not start")
        assert http_get(index.url, timeout=5)[0] == 401  # the index really wants the password
        yield index
    finally:
        server.terminate()
        server.wait(timeout=10)
