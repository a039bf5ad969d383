"""Hostile apps built by the real bin/compile: YAML bombs, huge and binary files,
links and includes leading out of the app, an escaping buildRoot, special files,
ENV_DIRs with odd names and binary values. Each is refused with a coded message
(or built safely); never a traceback, nothing read or written outside the app,
no ENV_DIR value printed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import RuntimeMirror, start_slug, stop_with_sigterm, wait_for_http, web_command

from stress.support import (
    DECOY_TEXT,
    Figures,
    Sandbox,
    app_from_fixture,
    build_in,
    partial_runtime_left,
    secret_env_dir,
)

pytestmark = [pytest.mark.stress, pytest.mark.integration]
PROJECT = '[project]\nname = "app"\nversion = "1"\ndependencies = ["flask"]\n'
# A line /etc/shadow always has: if it shows up, a file outside the app was printed.
SHADOW_MARK = "root:"


def alias_bomb() -> str:
    levels = [f"l0: &l0 [{', '.join(['x'] * 9)}]"]
    for level in range(1, 10):
        levels.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(levels) + "\nrun: *l9\n"


def write(name: str, content: str | bytes) -> Callable[[Sandbox], None]:
    def mutate(sandbox: Sandbox) -> None:
        path = sandbox.app / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return mutate


def link(name: str, target: str) -> Callable[[Sandbox], None]:
    def mutate(sandbox: Sandbox) -> None:
        (sandbox.app / name).unlink(missing_ok=True)
        (sandbox.app / name).symlink_to(target.format(sandbox=sandbox.root))
    return mutate


def fifo(name: str) -> Callable[[Sandbox], None]:
    def mutate(sandbox: Sandbox) -> None:
        (sandbox.app / name).unlink(missing_ok=True)
        os.mkfifo(sandbox.app / name)
    return mutate


# case -> (what to do to the app, the expected error code)
HOSTILE: dict[str, tuple[Callable[[Sandbox], None], str]] = {
    "leanengine.yaml alias bomb": (write("leanengine.yaml", alias_bomb()), "leanengine-yaml::bad-value"),
    "leanengine.yaml nested 100,000 deep": (write("leanengine.yaml", "run: " + "[" * 100_000),
                                            "leanengine-yaml::syntax"),
    "leanengine.yaml of 5 MB": (write("leanengine.yaml", "# padding\n" * 500_000), "leanengine-yaml::unreadable"),
    "leanengine.yaml binary": (write("leanengine.yaml", os.urandom(4096)), "leanengine-yaml::unreadable"),
    "leanengine.yaml python tag": (write("leanengine.yaml", "run: !!python/object/apply:os.system [id]\n"),
                                   "leanengine-yaml::syntax"),
    "leanengine.yaml link out": (link("leanengine.yaml", "/etc/shadow"), "app::unsafe-file"),
    ".python-version of 1 MB": (write(".python-version", "3.12\n" * 200_000), "python-version::unreadable"),
    ".python-version binary": (write(".python-version", os.urandom(512) + b"\0"), "python-version::unreadable"),
    ".python-version FIFO": (fifo(".python-version"), "app::unsafe-file"),
    ".python-version link out": (link(".python-version", "/etc/shadow"), "app::unsafe-file"),
    "requirements.txt -> /etc/shadow": (link("requirements.txt", "/etc/shadow"), "app::unsafe-file"),
    "requirements.txt FIFO": (fifo("requirements.txt"), "app::unsafe-file"),
    "requirements.txt: -r /etc/shadow": (write("requirements.txt", "Flask\n-r /etc/shadow\n"), "app::unsafe-file"),
    "requirements.txt: -r/etc/shadow": (write("requirements.txt", "-r/etc/shadow\n"), "app::unsafe-file"),
    "requirements.txt: --requirem continued": (write("requirements.txt", "--requirem \\\n/etc/shadow\n"),
                                              "app::unsafe-file"),
    "requirements.txt: -c ../decoy": (write("requirements.txt", "Flask\n-c ../decoy\n"), "app::unsafe-file"),
    "wsgi.py -> /etc/shadow": (link("wsgi.py", "/etc/shadow"), "app::unsafe-file"),
    "buildRoot: ../..": (write("leanengine.yaml", "buildRoot: ../..\n"), "leanengine-yaml::bad-value"),
    "buildRoot: a link out": (lambda s: (link("sub", "{sandbox}")(s), write("leanengine.yaml", "buildRoot: sub\n")(s)),
                              "leanengine-yaml::build-root-missing"),
    "buildRoot: /etc": (write("leanengine.yaml", "buildRoot: /etc\n"), "leanengine-yaml::bad-value"),
    "require: ../decoy": (write("leanengine.yaml", "install:\n  - require: [../decoy]\n  - use: default\n"),
                          "leanengine-yaml::bad-value"),
    # pyproject.toml and the locks (read even beside requirements.txt: requires-python counts).
    "pyproject.toml of 20 MB": (write("pyproject.toml", "# padding\n" * 2_000_000), "manifest::unreadable"),
    "pyproject.toml binary": (write("pyproject.toml", b"\xff" + os.urandom(4096)), "manifest::unreadable"),
    "pyproject.toml nested 100,000 deep": (write("pyproject.toml", "x = " + "[" * 100_000), "manifest::syntax"),
    "pyproject.toml -> /etc/shadow": (link("pyproject.toml", "/etc/shadow"), "app::unsafe-file"),
    "pyproject.toml FIFO": (fifo("pyproject.toml"), "app::unsafe-file"),
    "uv.lock binary": (lambda s: (write("pyproject.toml", PROJECT)(s), write("uv.lock", b"\xfe" + os.urandom(4096))(s)),
                       "manifest::unreadable"),
    "uv.lock -> /etc/shadow": (lambda s: (write("pyproject.toml", PROJECT)(s), link("uv.lock", "/etc/shadow")(s)),
                               "app::unsafe-file"),
    "poetry.lock nested 100,000 deep": (
        lambda s: (write("pyproject.toml", PROJECT)(s), write("poetry.lock", "a = " + "{b = " * 100_000)(s)),
        "manifest::syntax"),
    "Pipfile.lock nested 100,000 deep": (
        lambda s: (write("Pipfile", "[packages]\n")(s), write("Pipfile.lock", "[" * 100_000)(s)), "manifest::syntax"),
    "Pipfile.lock of 20 MB": (
        lambda s: (write("Pipfile", "[packages]\n")(s), write("Pipfile.lock", " " * 20_000_000)(s)),
        "manifest::unreadable"),
    "pylock.toml -> ../decoy": (link("pylock.toml", "../decoy"), "app::unsafe-file"),
    "pylock.toml and uv.lock": (lambda s: (write("pylock.toml", "")(s), write("uv.lock", "")(s)),
                                "manifest::several-managers"),
}


@pytest.fixture(scope="module")
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure("3.12.1")
    return runtime_mirror


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_app_is_refused(mirror: RuntimeMirror, tmp_path: Path, figures: Figures, case: str) -> None:
    mutate, code = HOSTILE[case]
    sandbox = Sandbox(tmp_path / "sandbox")
    app_from_fixture(sandbox)
    mutate(sandbox)
    env = secret_env_dir(sandbox.root / "env")
    row = figures.row(f"app: {case}")
    row.trials += 1
    result = build_in(sandbox, mirror.url, env)
    row.add_outside(sandbox.bytes_outside())
    row.add_leaks(env.leaks(result.output))
    assert result.returncode == 1, result.output
    assert f"[{code}]" in result.stderr, result.output
    assert "Traceback" not in result.output
    assert SHADOW_MARK not in result.output
    assert DECOY_TEXT.split(":")[0] not in result.output
    assert sandbox.bytes_outside() == 0
    assert partial_runtime_left(sandbox) == []
    assert env.leaks(result.output) == 0
    row.passed += 1


def test_odd_env_dir_and_printed_secrets_build_and_serve(mirror: RuntimeMirror, tmp_path: Path,
                                                        figures: Figures) -> None:
    """An ENV_DIR with odd names, binary and huge values, links and a FIFO, exposed to a
    build command that prints every variable: the build works, nothing secret shows."""
    sandbox = Sandbox(tmp_path / "sandbox")
    app_from_fixture(sandbox)
    (sandbox.app / "leanengine.yaml").write_text(
        "exposeEnvironmentsOnBuild: true\nbuild:\n  - env | sort\n"
        "  - printf '%s\\n' \"$MULTILINE_KEY\" \"$BINARY_VALUE\" \"$DATABASE_URL\"\n")
    env = secret_env_dir(sandbox.root / "env", HUGE_VALUE="x" * 200_000)
    row = figures.row("app: odd ENV_DIR, values printed by a build command")
    row.trials += 1
    result = build_in(sandbox, mirror.url, env)
    row.add_leaks(env.leaks(result.output))
    row.add_outside(sandbox.bytes_outside())
    assert result.returncode == 0, result.output
    assert "LEANCLOUD_APP_MASTER_KEY=[redacted]" in result.output
    assert "HUGE_VALUE" in result.stderr  # skipped, and said so
    assert env.leaks(result.output) == 0
    with start_slug(sandbox.app, web_command(sandbox.app), tmp_path / "web.log") as app:
        assert wait_for_http(app, "/")[0] == 200
        stop_with_sigterm(app)
    assert sandbox.bytes_outside() == 0
    row.passed += 1
