"""The Procfile is read only for the no-entry-point hint: its web line, and the
leanengine.yaml `run:` line that starts the same command here."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.analysis import leanengine_yaml, procfile
from python_buildpack.reporting import errors


@pytest.mark.parametrize(
    ("text", "line_number", "run"),
    [
        ("web: gunicorn app:app --bind 0.0.0.0:$PORT\n", 1, "gunicorn app:app --bind 0.0.0.0:$LEANCLOUD_APP_PORT"),
        ("release: ./migrate\nweb: python app.py\n", 2, "python app.py"),
        ("# comment\r\n\r\nweb:uvicorn main:app --port ${PORT}\r\n", 3,
         "uvicorn main:app --port ${LEANCLOUD_APP_PORT}"),
        ("\ufeffweb: waitress-serve --port=${PORT:-5000} app:app", 1,
         "waitress-serve --port=${LEANCLOUD_APP_PORT:-5000} app:app"),
        ("web: PORTS=$PORTS X=$PORT_X python a.py --port $PORT\n", 1,
         "PORTS=$PORTS X=$PORT_X python a.py --port $LEANCLOUD_APP_PORT"),
        ("  web:   python -c \"print('a: b')\"   \n", 1, "python -c \"print('a: b')\""),
        ("web: one\nweb: two\n", 1, "one"),
    ],
)
def test_the_web_line_and_its_command_with_the_platforms_port(text: str, line_number: int, run: str) -> None:
    found = procfile.web_process(text)
    assert found is not None
    assert (found.line_number, found.run) == (line_number, run)
    # The suggested line is exact: leanengine.yaml reads it back as the command.
    assert leanengine_yaml.parse(found.run_line).run == run


@pytest.mark.parametrize("text", ["", "worker: python worker.py\n", "web:\n", "# web: python app.py\n",
                                  "webapp: python app.py\n", "web python app.py\n"])
def test_no_web_process(text: str) -> None:
    assert procfile.web_process(text) is None


def test_a_procfile_that_is_a_link_or_not_a_file_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("web: python secret.py\n")
    app = tmp_path / "app"
    app.mkdir()
    (app / "Procfile").symlink_to(outside)
    assert procfile.read_web_process(app) is None
    (app / "Procfile").unlink()
    (app / "Procfile").mkdir()
    assert procfile.read_web_process(app) is None
    assert procfile.read_web_process(tmp_path / "nowhere") is None


def test_the_error_quotes_the_line_and_gives_the_run_line() -> None:
    found = procfile.web_process("release: x\nweb: gunicorn app:app -b 0.0.0.0:$PORT\n")
    err = errors.no_entry_point(found)
    assert err.code == "app::no-entry-point"
    assert "Procfile line 2: web: gunicorn app:app -b 0.0.0.0:$PORT" in err.detail
    assert "  run: gunicorn app:app -b 0.0.0.0:$LEANCLOUD_APP_PORT\n" in err.hint
    assert "$PORT replaced by $LEANCLOUD_APP_PORT" in err.hint


def test_a_command_without_port_is_told_to_listen_on_the_platforms_port() -> None:
    err = errors.no_entry_point(procfile.web_process("web: python app.py\n"))
    assert "  run: python app.py\n" in err.hint
    assert "listen on 0.0.0.0:$LEANCLOUD_APP_PORT" in err.hint


def test_invisible_characters_in_the_line_are_made_visible() -> None:
    err = errors.no_entry_point(procfile.web_process("web: python\u200b app.py\x1b[31m\n"))
    assert "\\u200b" in err.detail
    assert "\x1b" not in err.detail + err.hint
