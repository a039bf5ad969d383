from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from python_buildpack.runtime.relocate import make_scripts_relative, rewrite_prefix


def make_tree(root: Path) -> Path:
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    return bin_dir


def test_absolute_shebang_becomes_relative_and_survives_a_move(tmp_path: Path) -> None:
    bin_dir = make_tree(tmp_path / "a")
    script = bin_dir / "hello"
    script.write_text(f"#!{bin_dir}/python\nimport sys\nprint('hello', sys.argv[1:])\n")
    script.chmod(0o755)
    assert make_scripts_relative(bin_dir) == ["hello"]
    shutil.move(str(tmp_path / "a"), str(tmp_path / "b"))
    out = subprocess.run([str(tmp_path / "b" / "bin" / "hello"), "x y"], capture_output=True,
                         text=True, check=True).stdout
    assert out == "hello ['x y']\n"
    assert os.access(tmp_path / "b" / "bin" / "hello", os.X_OK)


def test_pip_sh_trampoline_is_rewritten(tmp_path: Path) -> None:
    bin_dir = make_tree(tmp_path / "long path")
    script = bin_dir / "tool"
    script.write_text(f"#!/bin/sh\n'''exec' \"{bin_dir}/python\" \"$0\" \"$@\"\n' '''\nprint('tool ran')\n")
    script.chmod(0o755)
    assert make_scripts_relative(bin_dir) == ["tool"]
    assert str(bin_dir) not in script.read_text()
    out = subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout
    assert out == "tool ran\n"


def test_foreign_and_binary_files_are_left_alone(tmp_path: Path) -> None:
    bin_dir = make_tree(tmp_path)
    (bin_dir / "shell").write_text("#!/bin/sh\necho hi\n")
    (bin_dir / "other-python").write_text("#!/usr/bin/python3\nprint(1)\n")
    (bin_dir / "binary").write_bytes(b"\x7fELF\x00\x00")
    assert make_scripts_relative(bin_dir) == []


def test_rewrite_prefix_touches_only_prefix_files(tmp_path: Path) -> None:
    data = tmp_path / "lib" / "python3.12" / "_sysconfigdata__linux_x86_64-linux-gnu.py"
    data.parent.mkdir(parents=True)
    data.write_text("build_time_vars = {'LIBDIR': '/old/prefix/lib'}\n")
    other = tmp_path / "lib" / "python3.12" / "os.py"
    other.write_text("# /old/prefix\n")
    assert rewrite_prefix(tmp_path, "/old/prefix", "/new/place") == 1
    assert "'/new/place/lib'" in data.read_text()
    assert other.read_text() == "# /old/prefix\n"
