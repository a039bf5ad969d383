"""The smoke check against tiny real servers on 127.0.0.1: real processes, real
SIGTERM. Each test asserts how the app stopped (the result records it), not
how fast; the benchmark measures speed."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from python_buildpack.launch import smoke_check
from python_buildpack.reporting.errors import BuildpackError
from python_buildpack.support import commands

# Serves 200 on every GET; what it does on SIGTERM comes before it.
_SERVER = """
import http.server, os, signal, socketserver, sys, time

class Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()

server = socketserver.TCPServer(("0.0.0.0", int(os.environ["LEANCLOUD_APP_PORT"])), Ok)
"""


def run_server(tmp_path: Path, script: str, before: str = "", timeout: float = 15.0
               ) -> smoke_check.SmokeResult:
    (tmp_path / "server.py").write_text(_SERVER + script)
    command = f"{before}exec {shlex.quote(sys.executable)} server.py"
    return smoke_check.run(tmp_path, command, {}, timeout, tmp_path / "smoke.log")


def test_an_app_that_exits_on_sigterm_has_exited(tmp_path: Path) -> None:
    result = run_server(tmp_path, "server.serve_forever()\n")
    assert (result.path, result.status) == ("/", 200)
    assert result.stopped.how == commands.EXITED


def test_a_server_polling_its_flag_is_woken_rather_than_waited_for(tmp_path: Path) -> None:
    # gunicorn's gthread worker in miniature: SIGTERM sets a flag, read when a
    # poll of the listening socket returns (here after 60 s, past the grace).
    script = ("import select\nrunning = [True]\n"
              "signal.signal(signal.SIGTERM, lambda *_: running.clear())\n"
              "while running:\n"
              "    if select.select([server.socket], [], [], 60)[0]:\n"
              "        server.handle_request()\n")
    result = run_server(tmp_path, script)
    # Not the grace: it stopped on its own account (exited, or was seen closing its port).
    assert result.stopped.how in (commands.EXITED, commands.STOPPED_SERVING)


def test_an_app_that_closes_its_port_and_lingers_is_not_waited_for(tmp_path: Path) -> None:
    script = ("def drain(*_):\n    server.socket.close()\n    time.sleep(60)\n    sys.exit(0)\n"
              "signal.signal(signal.SIGTERM, drain)\nserver.serve_forever()\n")
    result = run_server(tmp_path, script)
    assert result.stopped.how == commands.STOPPED_SERVING
    assert result.stopped.seconds < 5  # well under the 10 s grace, and the 60 s drain


def test_an_app_that_ignores_sigterm_passes_and_is_told_apart(tmp_path: Path) -> None:
    result = run_server(tmp_path, "server.serve_forever()\n", before="trap '' TERM; ")
    assert (result.path, result.status) == ("/", 200)  # the same verdict
    assert result.stopped.how == commands.IGNORES_SIGTERM
    assert result.stopped.seconds < 5  # killed without waiting out the 10 s grace


def test_a_helper_that_ignores_sigterm_without_serving_is_no_warning(tmp_path: Path) -> None:
    # As multiprocessing's resource tracker (uvicorn --workers starts one) does:
    # it ignores SIGTERM and ends with its parent; the server takes its time.
    helper = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
              " print('ready', flush=True); time.sleep(60)")
    script = (f"import subprocess\nhelper = subprocess.Popen([sys.executable, '-c', {helper!r}],"
              " stdout=subprocess.PIPE)\nhelper.stdout.readline()\n"
              "signal.signal(signal.SIGTERM, lambda *_: (time.sleep(0.5), sys.exit(0)))\n"
              "server.serve_forever()\n")
    result = run_server(tmp_path, script)
    assert result.stopped.how in (commands.EXITED, commands.STOPPED_SERVING)


def test_an_app_that_catches_sigterm_and_keeps_running_outlives_the_grace(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smoke_check, "_STOP_GRACE_SECONDS", 1.0)
    script = "signal.signal(signal.SIGTERM, lambda *_: None)\nserver.serve_forever()\n"
    result = run_server(tmp_path, script)
    assert result.stopped.how == commands.OUTLIVED_GRACE


def test_an_app_that_never_listens_and_ignores_sigterm_still_fails(tmp_path: Path) -> None:
    (tmp_path / "server.py").write_text("import time\ntime.sleep(60)\n")
    command = f"trap '' TERM; exec {shlex.quote(sys.executable)} server.py"
    with pytest.raises(BuildpackError) as raised:
        smoke_check.run(tmp_path, command, {}, 0.5, tmp_path / "smoke.log")
    assert raised.value.code == "smoke-check::no-answer"
    assert "/: not listening (ConnectionRefusedError)" in raised.value.detail


def test_an_app_that_exits_fails_with_its_exit_code(tmp_path: Path) -> None:
    with pytest.raises(BuildpackError) as raised:
        smoke_check.run(tmp_path, "echo starting; exit 3", {}, 15.0, tmp_path / "smoke.log")
    assert raised.value.code == "smoke-check::exited"
    assert "exited with code 3" in raised.value.detail
