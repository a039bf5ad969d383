"""The systemDependencies registry, apt's plan parsing and the unpacked tree's fix-ups."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from python_buildpack.reporting import errors
from python_buildpack.system import system_registry, system_tree
from python_buildpack.system.debian_packages import NEVER_SHIPPED, DebPackage, parse_simulation, unpack
from python_buildpack.system.system_step import SystemDependencies

# --- the registry -------------------------------------------------------------


def test_hooks_keep_the_listed_order_without_repeats() -> None:
    hooks = system_registry.hooks_for(["FFmpeg", "fonts-wqy", "ffmpeg "], "3.12.1")
    assert [hook.name for hook in hooks] == ["ffmpeg", "fonts-wqy"]


@pytest.mark.parametrize(("name", "suggestion"), [
    ("imagemagik", "imagemagick"), ("fonts_wqy", "fonts-wqy"), ("chrome", None), ("ta-lib", None),
])
def test_an_unknown_name_lists_the_supported_ones(name: str, suggestion: str | None) -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        system_registry.hooks_for([name], "3.12.1")
    assert raised.value.code == "system-dependencies::unknown"
    for supported in system_registry.HOOKS:
        assert f"- {supported}" in raised.value.detail
    assert (f'Did you mean "{suggestion}"?' in raised.value.detail) == (suggestion is not None)


def test_phantomjs_is_refused_with_its_replacement() -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        system_registry.hooks_for(["phantomjs"], "3.12.1")
    assert raised.value.code == "system-dependencies::discontinued"
    assert "chrome-headless" in raised.value.detail


def test_talib_needs_a_python_with_wheels() -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        system_registry.hooks_for(["python-talib"], "3.8.18")
    assert raised.value.code == "system-dependencies::needs-newer-python"
    assert system_registry.hooks_for(["python-talib"], "3.9.18")[0].python_requirement == "TA-Lib>=0.6"


def test_every_hook_installs_something() -> None:
    for hook in system_registry.HOOKS.values():
        assert hook.packages or hook.python_requirement, hook.name
        assert hook.summary


# --- apt's plan ---------------------------------------------------------------

SIMULATION = """\
NOTE: This is only a simulation!
Reading package lists...
Inst libpcre2-8-0 [10.42-1] (10.42-1+deb12u2 Debian-Security:12/oldstable-security [amd64]) []
Conf libpcre2-8-0 (10.42-1+deb12u2 Debian-Security:12/oldstable-security [amd64])
Inst imagemagick-6-common (8:6.9.11.60+dfsg-1.6+deb12u15 Debian-Security:12/oldstable-security [all])
Inst fontconfig [2.14.1-4] (2.14.1-4 Debian:12.15/oldstable [amd64])
Remv something [1.0]
"""


def test_the_simulation_lists_new_upgraded_and_reinstalled_packages() -> None:
    assert parse_simulation(SIMULATION) == [
        DebPackage("libpcre2-8-0", "10.42-1+deb12u2", "amd64"),
        DebPackage("imagemagick-6-common", "8:6.9.11.60+dfsg-1.6+deb12u15", "all"),
        DebPackage("fontconfig", "2.14.1-4", "amd64"),
    ]


def test_archive_names_escape_the_epoch() -> None:
    package = DebPackage("imagemagick-6-common", "8:6.9.11.60+dfsg-1.6+deb12u15", "all")
    assert package.file_name == "imagemagick-6-common_8%3a6.9.11.60+dfsg-1.6+deb12u15_all.deb"


def test_the_c_library_is_never_shipped() -> None:
    assert {"libc6", "libc-bin"} <= NEVER_SHIPPED


# --- the unpacked tree --------------------------------------------------------


def make_tree(root: Path) -> Path:
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/lib/x86_64-linux-gnu/pkgconfig").mkdir(parents=True)
    (root / "usr/include/demo").mkdir(parents=True)
    (root / "usr/bin/convert-im6.q16").write_text("#!/bin/sh\necho converted\n")
    (root / "usr/bin/convert-im6.q16").chmod(0o755)
    (root / "usr/lib/x86_64-linux-gnu/libdemo.so.1").write_text("")
    (root / "usr/bin/absolute").symlink_to("/usr/bin/convert-im6.q16")  # as in a .deb
    (root / "usr/bin/env-link").symlink_to("env")  # dangling here; the image has /usr/bin/env
    (root / "usr/lib/x86_64-linux-gnu/pkgconfig/demo.pc").write_text(
        "prefix=/usr\nlibdir=${prefix}/lib/x86_64-linux-gnu\nincludedir=/usr/include\n"
        "Name: demo\nDescription: d\nVersion: 1\nCflags: -I${includedir}/demo\nLibs: -L${libdir} -ldemo\n")
    (root / "usr/share/man/man1").mkdir(parents=True)
    (root / "usr/share/man/man1/convert.1").write_text("manual")
    (root / "usr/share/doc/demo").mkdir(parents=True)
    (root / "usr/share/doc/demo/changelog").write_text("long")
    (root / "usr/share/doc/demo/copyright").write_text("licence")
    return root


def test_finish_makes_the_tree_work_from_anywhere(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    imagemagick = system_registry.HOOKS["imagemagick"]
    assert system_tree.finish(root, [imagemagick]) == []
    assert os.readlink(root / "usr/bin/convert") == "convert-im6.q16"
    assert os.readlink(root / "usr/bin/absolute") == "convert-im6.q16"
    assert os.readlink(root / "usr/bin/env-link") == "/usr/bin/env"
    assert not (root / "usr/share/man").exists()
    assert sorted(p.name for p in (root / "usr/share/doc").rglob("*")) == ["copyright", "demo"]
    # The tree moves: pkg-config still finds its headers and libraries.
    moved = tmp_path / "moved"
    root.rename(moved)
    flags = subprocess.run(
        ["pkg-config", "--cflags", "--libs", "demo"], capture_output=True, text=True, check=True,
        env={"PATH": "/usr/bin:/bin", "PKG_CONFIG_PATH": str(moved / "usr/lib/x86_64-linux-gnu/pkgconfig")},
    ).stdout.split()
    paths = [flag[:2] + os.path.normpath(flag[2:]) for flag in flags if flag.startswith(("-I", "-L"))]
    assert paths == [f"-I{moved}/usr/include/demo", f"-L{moved}/usr/lib/x86_64-linux-gnu"]
    assert "-ldemo" in flags


def test_the_run_time_script_follows_home(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "slug/.lean/system")
    (root / "etc/ImageMagick-6").mkdir(parents=True)
    environment = system_tree.describe(root, [system_registry.HOOKS["imagemagick"]])
    assert environment.library_dirs == ("usr/lib/x86_64-linux-gnu",)
    script = environment.run_time_script(".lean/system")
    printed = subprocess.run(
        ["bash", "-c", script + 'printf "%s|%s|%s" "$PATH" "$LD_LIBRARY_PATH" "$MAGICK_CONFIGURE_PATH"'],
        env={"HOME": "/srv/app", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True,
    ).stdout
    assert printed == ("/srv/app/.lean/system/usr/bin:/usr/bin:/bin|"
                       "/srv/app/.lean/system/usr/lib/x86_64-linux-gnu|"
                       "/srv/app/.lean/system/etc/ImageMagick-6")


def test_build_variables_point_compilers_at_the_tree(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "tree")
    environment = system_tree.describe(root, [])
    found = environment.build_variables(root, {"CPATH": "/opt/include"})
    assert found["CPATH"] == f"{root}/usr/include:/opt/include"
    assert found["LIBRARY_PATH"] == f"{root}/usr/lib/x86_64-linux-gnu"
    assert found["PKG_CONFIG_PATH"] == f"{root}/usr/lib/x86_64-linux-gnu/pkgconfig"


def test_the_runtime_stays_first_on_the_installers_path() -> None:
    system = SystemDependencies(("/slug/.lean/system/usr/bin",), {"CPATH": "/slug/inc"},
                                ("TA-Lib>=0.6",), ("ta-lib",))
    env = system.apply({"PATH": "/slug/.lean/python/bin:/usr/bin:/bin", "PIP_CACHE_DIR": "/c"})
    assert env["PATH"] == "/slug/.lean/python/bin:/slug/.lean/system/usr/bin:/usr/bin:/bin"
    assert env["CPATH"] == "/slug/inc"
    assert env["PIP_ONLY_BINARY"] == "ta-lib"
    assert env["UV_NO_BUILD_PACKAGE"] == "ta-lib"
    assert env["PIP_CACHE_DIR"] == "/c"


def test_a_damaged_deb_is_a_clear_error(tmp_path: Path) -> None:
    damaged = tmp_path / "ffmpeg_5.1_amd64.deb"
    damaged.write_bytes(b"!<arch>\ntruncated")
    with pytest.raises(errors.BuildpackError) as raised:
        unpack(damaged, tmp_path / "tree")
    assert raised.value.code == "system-dependencies::broken-package"
    assert "ffmpeg_5.1_amd64.deb" in raised.value.title
