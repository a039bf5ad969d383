"""The CNB layer decisions and files, as tables: when a restored layer is
reused, and what launch.toml and the env files say."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.cnb import launch_env, launch_toml
from python_buildpack.cnb.layers import why_not_reusable
from python_buildpack.system.system_tree import TreeEnvironment

WANTED = {"buildpack_version": "0.2.0", "python_version": "3.12.1", "install_key": "abc"}


@pytest.mark.parametrize(("previous", "restored", "reason"), [
    (WANTED, True, None),
    (None, False, "there is no such layer from an earlier build"),
    (WANTED, False, "there is no such layer from an earlier build"),  # metadata without contents
    ({**WANTED, "buildpack_version": "0.1.0"}, True, "it was made by buildpack version 0.1.0; this is 0.2.0"),
    ({**WANTED, "python_version": "3.11.7"}, True, "it holds Python 3.11.7; this build uses Python 3.12.1"),
    ({**WANTED, "install_key": "old"}, True, "its install key changed"),
    ({"buildpack_version": "0.2.0", "python_version": "3.12.1"}, True, "its install key changed"),
])
def test_a_layer_is_reused_only_when_made_from_the_same_inputs(
    previous: dict[str, str] | None, restored: bool, reason: str | None,
) -> None:
    assert why_not_reusable(previous, WANTED, restored) == reason


def test_every_process_runs_in_the_app_with_home_and_the_port_as_leanengine_did() -> None:
    facts = {"default_process_types": {"web": "gunicorn app:app", "worker": "python worker.py"},
             "leanengine": {"startupTimeout": 30}}
    document = launch_toml.launch_document(Path("/workspace"), facts, "3.12.1")
    web, worker = document["processes"]
    assert (web["type"], web["default"], worker["type"], worker["default"]) == ("web", True, "worker", False)
    assert web["command"][:2] == ["bash", "-c"]
    script = web["command"][2]
    assert "export HOME=/workspace\n" in script
    assert 'LEANCLOUD_APP_PORT="${LEANCLOUD_APP_PORT:-${PORT:-8080}}"' in script
    assert script.endswith("exec bash -c 'gunicorn app:app'\n")
    assert web["working-dir"] == "/workspace"
    assert document["labels"] == [
        {"key": "cn.leancloud.engine.python-version", "value": "3.12.1"},
        {"key": "cn.leancloud.engine.startupTimeout", "value": "30"},
    ]


def test_the_system_layer_puts_python_first_then_its_programs() -> None:
    environment = TreeEnvironment(bin_dirs=("usr/bin",), library_dirs=("usr/lib/x86_64-linux-gnu",),
                                  include_dirs=(), pkgconfig_dirs=(),
                                  variables={"MAGICK_CONFIGURE_PATH": "etc/ImageMagick-6"})
    files = launch_env.system_launch_files(Path("/layers/bp/system"), Path("/layers/bp/python/bin"),
                                           environment)
    assert files == {
        "PATH.prepend": "/layers/bp/python/bin:/layers/bp/system/usr/bin",
        "PATH.delim": ":",
        "LD_LIBRARY_PATH.prepend": "/layers/bp/system/usr/lib/x86_64-linux-gnu",
        "LD_LIBRARY_PATH.delim": ":",
        "MAGICK_CONFIGURE_PATH.override": "/layers/bp/system/etc/ImageMagick-6",
    }
