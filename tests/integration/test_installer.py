"""uv, the default installer on Python 3.8 and later: the same environments as pip;
pip where uv does not support the line or the requirement file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import (
    RuntimeMirror,
    assert_user_error,
    compile_app,
    copy_fixture,
    move_slug,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)

pytestmark = pytest.mark.integration


def installed_packages(app: Path) -> list[str]:
    python = app / ".lean" / "python" / "bin" / "python"
    script = ("import os, sys, sysconfig\n"
              "site = sysconfig.get_paths()['purelib']\n"
              "print('\\n'.join(sorted(n.split('-')[0].lower() + '==' + n.split('-')[1][:-len('.dist-info')]\n"
              "      for n in os.listdir(site) if n.endswith('.dist-info'))))")
    return subprocess.run([str(python), "-c", script], capture_output=True, text=True, check=True).stdout.split()


def test_uv_builds_the_same_environment_as_pip_and_it_serves(runtime_mirror: RuntimeMirror,
                                                              tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    environments = {}
    for installer in ("pip", "uv"):  # uv: the default
        app = copy_fixture("flask-app", tmp_path / installer)
        chosen = {"PYTHON_INSTALLER": "pip"} if installer == "pip" else {}
        result = compile_app(runtime_mirror.url, app, tmp_path / f"cache-{installer}", **chosen)
        assert result.returncode == 0, result.output
        environments[installer] = [p for p in installed_packages(app) if not p.startswith("pip==")]
    assert "Installing with uv (the default on Python 3.8 and later; PYTHON_INSTALLER=pip for pip)" in result.output
    assert environments["uv"] == environments["pip"]
    slug = move_slug(tmp_path / "uv" / "flask-app", tmp_path / "moved")
    with start_slug(slug, web_command(slug), tmp_path / "web.log") as running:
        assert wait_for_http(running, "/") == (200, "Hello from Flask on Python 3.12\n")
        stop_with_sigterm(running)


def test_uv_falls_back_to_pip_where_it_does_not_support_the_line(runtime_mirror: RuntimeMirror,
                                                                 tmp_path: Path) -> None:
    runtime_mirror.ensure("2.7.18")
    app = copy_fixture("flask-any-python", tmp_path)
    (app / ".python-version").write_text("2.7\n")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache", PYTHON_INSTALLER="uv")
    assert result.returncode == 0, result.output
    assert "PYTHON_INSTALLER=uv: uv does not support Python 2.7.18; using pip" in result.output


def test_unknown_installer_is_refused(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache", PYTHON_INSTALLER="poetry")
    assert_user_error(result, "config::bad-installer", '"poetry"')


def test_a_requirement_file_option_uv_ignores_keeps_pip(runtime_mirror: RuntimeMirror, tmp_path: Path) -> None:
    runtime_mirror.ensure("3.12.1")
    app = copy_fixture("flask-app", tmp_path)
    (app / "requirements.txt").write_text("--prefer-binary\nFlask>=2,<4\n")
    result = compile_app(runtime_mirror.url, app, tmp_path / "cache", SMOKE_CHECK="0")
    assert result.returncode == 0, result.output
    assert "Installing with pip: requirements.txt uses `--prefer-binary`, which uv does not read as pip does" \
        in result.output
    assert "Installing with uv" not in result.output
    assert "Successfully installed" in result.output
