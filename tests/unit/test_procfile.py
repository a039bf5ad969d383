"""Heroku's Procfile: its processes, the web line as the web command when
leanengine.yaml has no `run:`, the other types in bin/release, and the file
read with care."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from python_buildpack.analysis import app_source, procfile
from python_buildpack.image import config
from python_buildpack.launch import start_command
from python_buildpack.reporting import errors


@pytest.mark.parametrize(
    ("text", "line_number", "command"),
    [
        ("web: gunicorn app:app --bind 0.0.0.0:$PORT\n", 1, "gunicorn app:app --bind 0.0.0.0:$PORT"),
        ("release: ./migrate\nweb: python app.py\n", 2, "python app.py"),
        ("# comment\r\n\r\nweb:uvicorn main:app --port ${PORT}\r\n", 3, "uvicorn main:app --port ${PORT}"),
        ("\ufeffweb: waitress-serve --port=${PORT:-5000} app:app", 1, "waitress-serve --port=${PORT:-5000} app:app"),
        ("  web:   python -c \"print('a: b')\"   \n", 1, "python -c \"print('a: b')\""),
        ("web: one\nweb: two\n", 1, "one"),
    ],
)
def test_the_web_line(text: str, line_number: int, command: str) -> None:
    found = procfile.web(procfile.processes(text))
    assert found is not None
    assert (found.line_number, found.command) == (line_number, command)


@pytest.mark.parametrize("text", ["", "worker: python worker.py\n", "web:\n", "# web: python app.py\n",
                                  "webapp: python app.py\n", "web python app.py\n"])
def test_no_web_process(text: str) -> None:
    assert procfile.web(procfile.processes(text)) is None


def test_port_is_recognised_but_not_its_lookalikes() -> None:
    assert procfile.processes("web: x --port $PORT\n")[0].uses_port
    assert procfile.processes("web: x --port ${PORT:-5000}\n")[0].uses_port
    assert not procfile.processes("web: PORTS=$PORTS X=$PORT_X python a.py\n")[0].uses_port


def app(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    return tmp_path


def test_the_web_line_is_the_command_unless_run_is_set(tmp_path: Path) -> None:
    app(tmp_path, {"Procfile": "release: ./migrate\nweb: gunicorn app:app -b 0.0.0.0:$PORT\nworker: python w.py\n",
                   "requirements.txt": "flask\n"})
    _app_dir, config = app_source.resolve_config(tmp_path)
    assert (config.run, config.run_source) == ("gunicorn app:app -b 0.0.0.0:$PORT", "Procfile line 2")
    assert config.other_processes == (("release", "./migrate"), ("worker", "python w.py"))
    assert app_source.is_python_app(tmp_path)  # no wsgi.py: the Procfile is the entry point
    release = yaml.safe_load(start_command.release_document(tmp_path))
    assert release["default_process_types"] == {
        "web": "gunicorn app:app -b 0.0.0.0:$PORT", "release": "./migrate", "worker": "python w.py"}
    (tmp_path / "leanengine.yaml").write_text("run: python app.py\n")
    _app_dir, config = app_source.resolve_config(tmp_path)
    assert (config.run, config.run_source) == ("python app.py", "leanengine.yaml")


def test_a_procfile_without_a_manifest_is_not_detected(tmp_path: Path) -> None:
    app(tmp_path, {"Procfile": "web: python app.py\n"})
    assert not app_source.is_python_app(tmp_path)


def test_a_procfile_that_leads_out_or_is_not_text(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.write_text("web: python secret.py\n")
    project = tmp_path / "app"
    project.mkdir()
    (project / "Procfile").symlink_to(outside)
    with pytest.raises(errors.BuildpackError) as raised:
        procfile.read_processes(project)
    assert raised.value.code == "app::unsafe-file"
    (project / "Procfile").unlink()
    (project / "Procfile").write_bytes(b"web: \xff\xfe\n")
    with pytest.raises(errors.BuildpackError) as raised:
        procfile.read_processes(project)
    assert raised.value.code == "app::procfile-unreadable"
    assert procfile.read_processes(tmp_path / "nowhere") == []


def test_no_entry_point_names_the_three_ways() -> None:
    err = errors.no_entry_point()
    assert "web: gunicorn app:app --bind 0.0.0.0:$PORT" in err.hint
    assert "run: python app.py" in err.hint


def test_the_other_process_types_are_image_labels() -> None:
    facts = config.AppFacts("gunicorn app:app -b 0.0.0.0:$PORT", "3.12.1", "1", 30, False,
                            other_processes=(("worker", "python w.py"),))
    labels = config.labels(facts, config.ImageOptions(), 0, None)
    assert labels["io.leancloud.buildpack.process.worker"] == "python w.py"
    assert labels["io.leancloud.buildpack.web-command"] == "gunicorn app:app -b 0.0.0.0:$PORT"
