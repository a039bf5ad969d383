"""Layers, config and manifest: the same slug gives the same bytes; bytecode stays valid."""

from __future__ import annotations

import gzip
import importlib.util
import io
import json
import os
import py_compile
import tarfile
from pathlib import Path

import pytest
from python_buildpack.image import blobs, bytecode, config, launcher, layers


def make_slug(root: Path) -> Path:
    slug = root / "slug"
    (slug / ".lean/python/bin").mkdir(parents=True)
    (slug / ".lean/python/lib/site-packages/pkg").mkdir(parents=True)
    (slug / ".lean/system/usr/bin").mkdir(parents=True)
    (slug / ".lean/python/bin/python3").write_text("#!/bin/sh\n")
    (slug / ".lean/python/bin/python3").chmod(0o700)
    (slug / ".lean/python/bin/python").symlink_to("python3")
    (slug / ".lean/system/usr/bin/tool").write_bytes(b"\x7fELF")
    (slug / ".lean/gunicorn.conf.py").write_text("bind = '0.0.0.0'\n")
    (slug / ".profile.d").mkdir()
    (slug / ".profile.d/python.sh").write_text("export A=1\n")
    (slug / "wsgi.py").write_text("application = None\n")
    (slug / "static").mkdir()
    (slug / "static/b.css").write_text("b")
    os.link(slug / "static/b.css", slug / "static/a.css")  # a hard link: stored as a file
    os.mkfifo(slug / "pipe")  # left out
    (slug / ".lean/image").mkdir()
    (slug / ".lean/image/launch").write_text("stale")  # the launch layer's own path: left out
    source = slug / ".lean/python/lib/site-packages/pkg/mod.py"
    source.write_text("VALUE = 42\n")
    py_compile.compile(str(source), doraise=True)  # a timestamp-based .pyc, as pip writes them
    py_compile.compile(str(slug / "wsgi.py"), doraise=True)  # written by a run of the app: left out
    return slug


def members(path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return tar.getmembers()


def test_same_slug_same_layer_bytes_whatever_the_mtimes(tmp_path: Path) -> None:
    slug = make_slug(tmp_path)
    first = layers.write_slug_layer(slug, "app", tmp_path / "a1.tgz", layers.DEFAULT_EPOCH)
    for path in slug.rglob("*"):
        if not path.is_symlink() and path.name != "pipe":
            os.utime(path, (1_700_000_000, 1_700_000_000))
    second = layers.write_slug_layer(slug, "app", tmp_path / "a2.tgz", layers.DEFAULT_EPOCH)
    assert first.blob.digest == second.blob.digest
    assert (tmp_path / "a1.tgz").read_bytes() == (tmp_path / "a2.tgz").read_bytes()
    assert first.diff_id == blobs.sha256_digest(gzip.decompress((tmp_path / "a1.tgz").read_bytes()))
    # gzip header: no name, mtime 0
    assert (tmp_path / "a1.tgz").read_bytes()[3:8] == b"\x00\x00\x00\x00\x00"


def test_entries_sorted_owned_by_the_app_user_with_one_mtime(tmp_path: Path) -> None:
    slug = make_slug(tmp_path)
    app = layers.write_slug_layer(slug, "app", tmp_path / "app.tgz", 1234567890)
    entries = members(tmp_path / "app.tgz")
    names = [entry.name for entry in entries]
    assert names == ["app", "app/.lean", "app/.lean/gunicorn.conf.py", "app/.profile.d",
                     "app/.profile.d/python.sh", "app/static", "app/static/a.css", "app/static/b.css",
                     "app/wsgi.py"]
    assert {(entry.uid, entry.gid, entry.uname, entry.gname, entry.mtime) for entry in entries} == {
        (1000, 1000, "", "", 1234567890)}
    assert all(entry.isfile() or entry.isdir() for entry in entries)
    assert app.files == 5


def test_runtime_layer_has_the_runtime_and_system_packages(tmp_path: Path) -> None:
    slug = make_slug(tmp_path)
    layers.write_slug_layer(slug, "runtime", tmp_path / "rt.tgz", layers.DEFAULT_EPOCH)
    by_name = {entry.name: entry for entry in members(tmp_path / "rt.tgz")}
    assert "app/.lean/gunicorn.conf.py" not in by_name
    assert "app/wsgi.py" not in by_name
    assert by_name["app/.lean/python/bin/python"].issym()
    assert by_name["app/.lean/python/bin/python"].linkname == "python3"
    assert by_name["app/.lean/python/bin/python3"].mode == 0o755
    assert by_name["app/.lean/system/usr/bin/tool"].mode == 0o644
    assert by_name["app/.lean/python/lib/site-packages/pkg"].mode == 0o755


def test_the_slug_is_only_read(tmp_path: Path) -> None:
    slug = make_slug(tmp_path)
    before = {path: (path.lstat().st_mtime_ns, path.lstat().st_size) for path in slug.rglob("*")}
    layers.write_slug_layer(slug, "runtime", tmp_path / "rt.tgz", layers.DEFAULT_EPOCH)
    layers.write_slug_layer(slug, "app", tmp_path / "app.tgz", layers.DEFAULT_EPOCH)
    assert {path: (path.lstat().st_mtime_ns, path.lstat().st_size) for path in slug.rglob("*")} == before


def test_timestamp_bytecode_becomes_checked_hash_bytecode(tmp_path: Path) -> None:
    slug = make_slug(tmp_path)
    layers.write_slug_layer(slug, "runtime", tmp_path / "rt.tgz", layers.DEFAULT_EPOCH)
    pyc_name = Path(importlib.util.cache_from_source(".lean/python/lib/site-packages/pkg/mod.py"))
    with tarfile.open(tmp_path / "rt.tgz") as tar:
        handle = tar.extractfile(f"app/{pyc_name.as_posix()}")
        assert handle is not None
        converted = handle.read()
    source = slug / ".lean/python/lib/site-packages/pkg/mod.py"
    expected = tmp_path / "expected.pyc"
    py_compile.compile(str(source), cfile=str(expected), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
    assert converted == expected.read_bytes()
    assert int.from_bytes(converted[4:8], "little") == 0b11


@pytest.mark.parametrize(("path", "kept"), [
    (".lean/python/lib/python3.12/site-packages/flask/__pycache__/app.cpython-312.pyc", True),
    (".lean/python/lib/python3.12/json/__pycache__/decoder.cpython-312.pyc", True),  # from the archive
    (".lean/python/lib/python2.7/json/decoder.pyc", True),
    (".lean/python/lib/python3.12/__pycache__/_sysconfigdata__linux_x86_64-linux-gnu.cpython-312.pyc", False),
    ("__pycache__/wsgi.cpython-312.pyc", False),  # the app's, written by a run of it
    ("app/__pycache__/views.cpython-312.pyc", False),
    (".lean/system/usr/lib/python3/dist-packages/x.pyc", False),
])
def test_only_the_runtimes_bytecode_goes_into_a_layer(path: str, kept: bool) -> None:
    assert layers.is_runtime_bytecode(path) is kept


def test_stale_bytecode_is_left_out(tmp_path: Path) -> None:
    slug = make_slug(tmp_path)
    (slug / ".lean/python/lib/site-packages/pkg/mod.py").write_text("VALUE = 43  # changed after compiling\n")
    layers.write_slug_layer(slug, "runtime", tmp_path / "rt.tgz", layers.DEFAULT_EPOCH)
    assert not [entry for entry in members(tmp_path / "rt.tgz") if entry.name.endswith(".pyc")]


@pytest.mark.parametrize("header", [
    b"\x03\xf3\r\n",  # 2.7: magic, mtime
    b"\x33\r\r\n",  # 3.6 (3379): magic, mtime, size
])
def test_old_bytecode_gets_the_normalised_mtime(header: bytes) -> None:
    source = b"x = 1\n"
    mtime = 1_600_000_000
    data = header + mtime.to_bytes(4, "little") + len(source).to_bytes(4, "little") + b"code"
    normalised = bytecode.normalise(data, source, mtime, layers.DEFAULT_EPOCH)
    assert normalised == header + layers.DEFAULT_EPOCH.to_bytes(4, "little") + data[8:]
    assert bytecode.normalise(data, source, mtime + 1, layers.DEFAULT_EPOCH) is None


def test_launch_layer_and_launcher(tmp_path: Path) -> None:
    init = tmp_path / "dumb-init"
    init.write_bytes(b"\x7fELF init")
    files = launcher.launch_files("gunicorn --config .lean/gunicorn.conf.py 'it''s':application", init)
    launch = layers.write_launch_layer(files, tmp_path / "launch.tgz", layers.DEFAULT_EPOCH)
    by_name = {entry.name: entry for entry in members(tmp_path / "launch.tgz")}
    assert sorted(by_name) == ["app", "app/.lean", "app/.lean/image", "app/.lean/image/dumb-init",
                               "app/.lean/image/launch"]
    assert by_name["app/.lean/image/launch"].mode == 0o755
    assert launch.files == 2
    script = launcher.launcher_script("python app.py")
    assert 'export LEANCLOUD_APP_PORT="${PORT:-3000}"' in script
    assert "exec bash -c 'python app.py'" in script


def facts() -> config.AppFacts:
    return config.AppFacts("gunicorn x:y", "3.12.1", "0.2.0", 30.0, uses_sdk=False)


def test_config_and_manifest_are_canonical_and_complete(tmp_path: Path) -> None:
    slug = make_slug(tmp_path)
    built = [layers.write_slug_layer(slug, "app", tmp_path / "app.tgz", layers.DEFAULT_EPOCH)]
    base = config.BaseImage("localhost:5000/base:1", {"architecture": "amd64", "config": {
        "Env": ["PATH=/usr/bin", "KEEP=1"]}, "rootfs": {"diff_ids": ["sha256:" + "0" * 64]}, "history": [{}]},
        [blobs.Blob(blobs.DOCKER_LAYER_GZIP, "sha256:" + "1" * 64, 10)], "sha256:" + "2" * 64)
    options = config.ImageOptions(source="https://example.com/app", revision="abc123", version="1.0")
    document = config.image_config(facts(), options, built, architecture="amd64", epoch=0, base=base)
    image = config.assemble(document, built, base, {})
    again = config.assemble(config.image_config(facts(), options, built, architecture="amd64", epoch=0,
                                                base=base), built, base, {})
    assert image.digest == again.digest
    assert image.manifest == again.manifest
    runtime = document["config"]
    assert runtime["User"] == "1000:1000"
    assert runtime["WorkingDir"] == "/app"
    assert runtime["ExposedPorts"] == {"3000/tcp": {}}
    assert runtime["Entrypoint"] == launcher.ENTRYPOINT
    assert "KEEP=1" in runtime["Env"]
    assert "TZ=UTC" in runtime["Env"]
    assert "HOME=/app" in runtime["Env"]
    assert [entry for entry in runtime["Env"] if entry.startswith("PATH=")] == [
        f"PATH={config.SLUG_PATH}:{config.SYSTEM_PATH}"]
    labels = runtime["Labels"]
    assert labels["org.opencontainers.image.created"] == "1970-01-01T00:00:00Z"
    assert labels["org.opencontainers.image.revision"] == "abc123"
    assert labels["io.leancloud.buildpack.web-command"] == "gunicorn x:y"
    assert labels["io.leancloud.buildpack.python-version"] == "3.12.1"
    manifest = json.loads(image.manifest)
    assert [layer["mediaType"] for layer in manifest["layers"]] == [blobs.OCI_LAYER_GZIP] * 2
    assert document["rootfs"]["diff_ids"] == ["sha256:" + "0" * 64, built[0].diff_id]
    assert image.config.digest == blobs.sha256_digest(image.config_bytes)
    assert io.BytesIO(image.manifest).read() == blobs.canonical_json(manifest)


def test_source_date_epoch() -> None:
    assert layers.source_date_epoch({"SOURCE_DATE_EPOCH": "1700000000"}) == 1700000000
    assert layers.source_date_epoch({}) == layers.DEFAULT_EPOCH
    assert layers.source_date_epoch({"SOURCE_DATE_EPOCH": "soon"}) == layers.DEFAULT_EPOCH


def test_layer_cache_hits_only_while_the_slug_is_unchanged(tmp_path: Path) -> None:
    from python_buildpack.image import layer_cache  # noqa: PLC0415

    slug = make_slug(tmp_path)
    root = tmp_path / "cache"
    first, cached = layer_cache.slug_layer(slug, "runtime", tmp_path / "1.tgz", 0, root)
    assert not cached
    again, cached = layer_cache.slug_layer(slug, "runtime", tmp_path / "2.tgz", 0, root)
    assert cached
    assert again == layers.Layer("runtime", first.blob.__class__(first.blob.media_type, first.blob.digest,
                                                                  first.blob.size, tmp_path / "2.tgz"),
                                 first.diff_id, first.files)
    assert (tmp_path / "1.tgz").read_bytes() == (tmp_path / "2.tgz").read_bytes()
    (slug / ".lean/python/bin/python3").write_text("#!/bin/sh\n")  # same bytes, but written again
    _changed, cached = layer_cache.slug_layer(slug, "runtime", tmp_path / "3.tgz", 0, root)
    assert not cached
