"""Making a CPython tree work from wherever it is put.

- Script shebangs become a `/bin/sh` trampoline that finds the interpreter
  beside the script (pip writes absolute shebangs, which break on a move).
- `_sysconfigdata*.py`, the config Makefile, `*-config` scripts and pkg-config
  files name the prefix the tree was built in; they are rewritten to where it
  now lives, or C extensions fail to link (`cannot find -lpython2.7`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# Python reads lines 2-3 as one string literal; sh runs `exec` on line 2.
_TRAMPOLINE = (
    "#!/bin/sh\n"
    "'''exec' \"$(dirname -- \"$(readlink -f -- \"$0\")\")/{interpreter}\" \"$0\" \"$@\"\n"
    "' '''\n"
)
_PIP_TRAMPOLINE = re.compile(rb"\A#!/bin/sh\n'''exec' (\"[^\"]+\"|\S+) \"\$0\" \"\$@\"\n' '''\n")
_SHEBANG = re.compile(rb"\A#!([^\s]+)[^\n]*\n")


def make_scripts_relative(bin_dir: Path) -> list[str]:
    """Rewrite scripts in bin_dir whose interpreter lives in bin_dir; return their names."""
    rewritten = []
    for script in sorted(bin_dir.iterdir()):
        if script.is_symlink() or not script.is_file():
            continue
        with open(script, "rb") as handle:
            head = handle.read(1024)
        interpreter = _interpreter_of(head)
        if interpreter is None or not _same_dir(Path(interpreter).parent, bin_dir):
            continue
        body = script.read_bytes()
        old_header = _header_length(body)
        new = _TRAMPOLINE.format(interpreter=Path(interpreter).name).encode() + body[old_header:]
        _replace_file(script, new)
        rewritten.append(script.name)
    return rewritten


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _interpreter_of(head: bytes) -> str | None:
    trampoline = _PIP_TRAMPOLINE.match(head)
    if trampoline:
        return trampoline.group(1).strip(b'"').decode(errors="replace")
    shebang = _SHEBANG.match(head)
    if shebang and b"python" in shebang.group(1):
        return shebang.group(1).decode(errors="replace")
    return None


def _header_length(body: bytes) -> int:
    trampoline = _PIP_TRAMPOLINE.match(body)
    if trampoline:
        return trampoline.end()
    shebang = _SHEBANG.match(body)
    return shebang.end() if shebang else 0


def _replace_file(path: Path, content: bytes) -> None:
    mode = path.stat().st_mode
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(content)
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def prefix_files(root: Path) -> list[Path]:
    """Files of a CPython tree that record its install prefix as text."""
    patterns = (
        "lib/python*/_sysconfigdata*.py",
        "lib/python*/config-*/Makefile",
        "lib/python*/config/Makefile",
        "lib/pkgconfig/*.pc",
        "bin/python*-config",
    )
    return sorted(
        path for pattern in patterns for path in root.glob(pattern)
        if path.is_file() and not path.is_symlink()
    )


def rewrite_prefix(root: Path, old_prefix: str, new_prefix: str) -> int:
    """Replace old_prefix by new_prefix in the tree's prefix files; return files changed."""
    changed = 0
    for path in prefix_files(root):
        content = path.read_bytes()
        if old_prefix.encode() in content:
            _replace_file(path, content.replace(old_prefix.encode(), new_prefix.encode()))
            changed += 1
    return changed
