"""What every stress scenario shares: trial counts, the figures table, ENV_DIRs full
of secrets (and odd entries), and the measure of bytes written outside a build's
own directories."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from helpers import FIXTURES, Result, compile_app

# `make test` runs every scenario a few times; `make stress` (STRESS_LEVEL=full) the full counts.
FULL = os.environ.get("STRESS_LEVEL", "quick") == "full"
SEED = int(os.environ.get("STRESS_SEED", "20261126"))


def trials(quick: int, full: int) -> int:
    return full if FULL else quick


@dataclass
class Figure:
    scenario: str
    trials: int = 0
    passed: int = 0
    inputs: int = 0
    bytes_outside: int | None = None  # None: not measured in this scenario
    secrets_leaked: int | None = None

    def add_outside(self, count: int) -> None:
        self.bytes_outside = (self.bytes_outside or 0) + count

    def add_leaks(self, count: int) -> None:
        self.secrets_leaked = (self.secrets_leaked or 0) + count


class Figures:
    """One row per scenario; written as JSON for scripts/stress.py to print."""

    def __init__(self) -> None:
        self.rows: dict[str, Figure] = {}

    def row(self, scenario: str) -> Figure:
        return self.rows.setdefault(scenario, Figure(scenario))

    def write(self, path: Path) -> None:
        path.write_text(json.dumps([asdict(row) for row in self.rows.values()], indent=1))


# --- secrets ----------------------------------------------------------------------

@dataclass(frozen=True)
class SecretEnv:
    path: Path
    secrets: tuple[str, ...]  # every value that must never be printed

    def leaks(self, output: str) -> int:
        return sum(1 for secret in self.secrets if secret in output)


def secret_env_dir(directory: Path, **plain: str) -> SecretEnv:
    """An ENV_DIR as a hostile platform user could make it: secret values, odd file
    names (spaces, `=`, newlines, non-UTF-8 bytes, very long), binary values, a
    symlink out, a sub-directory and a FIFO. Every value is a fresh random token."""
    directory.mkdir(parents=True, exist_ok=True)
    tokens: list[str] = []

    def token() -> str:
        tokens.append(secrets.token_hex(12))
        return tokens[-1]

    (directory / "LEANCLOUD_APP_MASTER_KEY").write_text(token())
    (directory / "DATABASE_URL").write_text(f"postgres://admin:{token()}@db.internal/app\n")
    (directory / "MULTILINE_KEY").write_text(f"-----BEGIN KEY-----\n{token()}\n{token()}\n-----END KEY-----\n")
    (directory / "BINARY_VALUE").write_bytes(b"\xff\xfe\x80" + token().encode() + b"\x81\xc3")
    for odd in ("with space", "a=b", "line\nbreak", "-dash", "9starts-with-digit", "x" * 200):
        (directory / odd).write_text(token())
    os.mkdir(directory / "sub-directory")
    os.symlink("/etc/shadow", directory / "LINK_OUT")
    os.mkfifo(directory / "A_FIFO")
    (directory / os.fsdecode(b"non-utf8-\xff\xfe")).write_text(token())
    (directory / "NUL_VALUE").write_bytes(b"a\0" + token().encode())
    for name, value in plain.items():
        (directory / name).write_text(value)
    return SecretEnv(directory, tuple(tokens))


# --- bytes written outside ----------------------------------------------------------

def _sizes(root: Path, skip: tuple[Path, ...]) -> dict[str, int]:
    found: dict[str, int] = {}
    for current, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(current, d) not in skip]
        for name in files:
            path = Path(current, name)
            if not path.is_symlink():
                found[str(path)] = path.stat().st_size
    return found


DECOY_TEXT = "decoy-outside-the-app: untouched\n"


class Sandbox:
    """A directory holding a build's app, cache and ENV_DIR, and nothing else the
    build may write to: bytes_outside() counts what appeared elsewhere in it, plus
    anything at the absolute paths hostile inputs aim at."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.app = root / "app"
        self.cache = root / "cache"
        self.decoy = root / "decoy"  # a file outside, never to be changed or printed
        root.mkdir(parents=True, exist_ok=True)
        self.decoy.write_text(DECOY_TEXT)
        self.absolute_targets = [Path(f"/tmp/stress-escape-{secrets.token_hex(6)}")]
        self._before = _sizes(root, self._own())

    def _own(self) -> tuple[Path, ...]:
        return (self.app, self.cache, self.root / "env")

    def bytes_outside(self) -> int:
        after = _sizes(self.root, self._own())
        grown = sum(size for path, size in after.items() if self._before.get(path) != size)
        for target in self.absolute_targets:
            if target.is_file():
                grown += target.stat().st_size
            elif target.is_dir():
                grown += sum(_sizes(target, ()).values()) or 1
        return grown


def app_from_fixture(sandbox: Sandbox, name: str = "flask-app") -> Path:
    shutil.copytree(FIXTURES / name, sandbox.app, symlinks=True)
    return sandbox.app


def build_in(sandbox: Sandbox, mirror_url: str, env: SecretEnv, **extra_env: str) -> Result:
    """bin/compile; the result's stdout also holds the step logs, which are build
    output too (quiet builds keep the commands' output there)."""
    result = compile_app(mirror_url, sandbox.app, sandbox.cache, env.path, **extra_env)
    return Result(result.returncode, result.stdout + step_logs(sandbox.cache), result.stderr)


def step_logs(cache: Path) -> str:
    logs = cache / "python-buildpack" / "logs"
    files = sorted(logs.rglob("*.log")) if logs.is_dir() else []
    return "".join(f"\n[step log {path.name}]\n" + path.read_text(errors="replace") for path in files)


def partial_runtime_left(sandbox: Sandbox) -> list[str]:
    """Half-unpacked runtimes in the slug, partial downloads or unfinished layers in the cache."""
    leftovers = [str(p) for p in (sandbox.app / ".lean").glob(".runtime-*")] if sandbox.app.exists() else []
    if sandbox.cache.exists():
        leftovers += [str(p) for p in sandbox.cache.rglob("*.part")]
        leftovers += [str(p) for p in sandbox.cache.rglob(".staging-*")]
    return leftovers


def unfinished_layers(cache: Path) -> list[str]:
    """Layers in place (not staging) that lack any part of a finished one."""
    layers = cache / "python-buildpack" / "layers" / "install"
    if not layers.is_dir():
        return []
    return [layer.name for layer in layers.iterdir() if not layer.name.startswith(".") and not (
        (layer / "complete").is_file() and (layer / "metadata.json").is_file()
        and (layer / "python" / "bin" / "python").exists())]
