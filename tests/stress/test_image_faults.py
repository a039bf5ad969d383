"""bin/image against a faulty registry on 127.0.0.1 (scripted answers) and hostile
base images: each fault ends in a coded error, exit 1 and no traceback, or (for
transient faults) in a good image; the registry password is in no output."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import secrets
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import assert_user_error, free_port, host_environment, run_bin
from image_support import Answer, Script, scripted_registry

from stress.support import Figures

pytestmark = [pytest.mark.stress, pytest.mark.integration]
STATUS = "Package: libc6\nStatus: install ok installed\nVersion: 2.36-9+deb12u14\n"
GOOD_FILES = {"usr/bin/bash": "#!", "usr/lib/x86_64-linux-gnu/libc.so.6": "elf",
              "usr/lib/x86_64-linux-gnu/libssl.so.3": "elf", "var/lib/dpkg/status": STATUS}


def layer(files: dict[str, str], hard_links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content.encode())
            tar.addfile(info, io.BytesIO(content.encode()))
        for name, target in (hard_links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.LNKTYPE, target
            tar.addfile(info)
    return gzip.compress(buffer.getvalue(), mtime=0)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def serve_base(script: Script, layer_bytes: bytes, architecture: str = "amd64") -> None:
    config = json.dumps({"architecture": architecture, "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [digest(gzip.decompress(layer_bytes))]}}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": digest(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                                       "digest": digest(layer_bytes), "size": len(layer_bytes)}]}).encode()
    script.on("GET", "/v2/base/manifests/", (200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
                                            manifest))
    script.on("GET", f"/v2/base/blobs/{digest(config)}", (200, {}, config))
    script.on("GET", f"/v2/base/blobs/{digest(layer_bytes)}", (200, {}, layer_bytes))


def fake_slug(root: Path) -> Path:
    """What bin/image reads of a compiled slug (it never runs it)."""
    slug = root / "slug"
    (slug / ".lean/python/bin").mkdir(parents=True)
    (slug / ".lean/python/bin/python3").write_text("#!/bin/sh\n")
    (slug / "wsgi.py").write_text("application = None\n")
    (slug / "requirements.txt").write_text("Flask\n")
    (slug / ".lean/build-report.json").write_text(json.dumps({"outcome": "succeeded", "python_version": "3.12.1"}))
    (slug / ".lean/os-needs.json").write_text(json.dumps({
        "architecture": "amd64", "glibc": "2.34", "libraries": {"libc.so.6": "libc6", "libssl.so.3": "libssl3"}}))
    return slug


def refuse(status: int, header: dict[str, str] | None = None) -> Callable[[Script], None]:
    def apply(script: Script) -> None:
        script.on("GET", "/v2/", (status, header or {}, b'{"errors":[{"code":"X","message":"scripted"}]}'))
    return apply


def transient(script: Script) -> None:
    serve_base(script, layer(GOOD_FILES))
    ok = script.answers["GET /v2/base/manifests/"][0]
    busy: Answer = (503, {}, b"")
    script.on("GET", "/v2/base/manifests/", busy, (429, {"Retry-After": "0"}, b""), busy, ok)


CASES: dict[str, tuple[Callable[[Script], None], str | None]] = {
    "5xx then success": (transient, None),
    "401": (refuse(401, {"WWW-Authenticate": 'Basic realm="scripted"'}), "registry::unauthorized"),
    "403": (refuse(403), "registry::forbidden"),
    "404 for the base": (refuse(404), "registry::not-found"),
    "500 for good": (refuse(500), "registry::http-error"),
    "manifest not JSON": (lambda s: s.on("GET", "/v2/base/manifests/", (200, {}, b"<html>")),
                          "registry::bad-manifest"),
    "base of another architecture": (lambda s: serve_base(s, layer(GOOD_FILES), "arm64"),
                                     "base::wrong-architecture"),
    "base lacking libssl3": (lambda s: serve_base(s, layer({k: v for k, v in GOOD_FILES.items()
                                                            if "libssl" not in k})), "base::missing-library"),
    "base with ..": (lambda s: serve_base(s, layer({**GOOD_FILES, "usr/../../etc/cron.d/x": "x"})),
                     "base::unsafe-layer"),
    "base with an absolute hard link": (lambda s: serve_base(s, layer(GOOD_FILES, {"etc/x": "/etc/shadow"})),
                                        "base::unsafe-layer"),
    "base layer not a tar": (lambda s: serve_base(s, gzip.compress(b"\x00not a tar" * 999, mtime=0)),
                             "base::unsafe-layer"),
}


@pytest.mark.parametrize("case", [*sorted(CASES), "registry down"])
def test_registry_faults(case: str, tmp_path: Path, figures: Figures) -> None:
    row = figures.row(f"image: registry and base faults ({len(CASES) + 1} cases)")
    row.trials += 1
    password = "pw-" + secrets.token_hex(12)
    env = host_environment(IMAGE_REGISTRY_USERNAME="pusher", IMAGE_REGISTRY_PASSWORD=password,
                           XDG_CACHE_HOME=str(tmp_path / "cache"))
    slug = fake_slug(tmp_path)
    with scripted_registry() as (script, scripted_host):
        host, code = f"127.0.0.1:{free_port()}", "registry::unreachable"
        if case != "registry down":
            apply, code = CASES[case]
            apply(script)
            host = scripted_host
        result = run_bin("image", slug, f"{host}/app:1", "--base", f"{host}/base:1",
                         "--oci-layout", str(tmp_path / "layout"), env=env)
    row.add_leaks(result.output.count(password))
    if code is None:
        assert result.returncode == 0, result.output
        assert json.loads((tmp_path / "layout/index.json").read_text())["manifests"]
    else:
        assert_user_error(result, code)
        assert not (tmp_path / "layout/index.json").exists()
    assert password not in result.output
    row.passed += 1
