from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.analysis import app_source
from python_buildpack.analysis.app_source import defines_application
from python_buildpack.reporting import errors


@pytest.mark.parametrize(
    ("source", "defined"),
    [
        ("application = app\n", True),
        ("from app import app as application\n", True),
        ("from app import application\n", True),
        ("import application\n", True),
        ("def application(environ, start_response):\n    pass\n", True),
        ("class application:\n    pass\n", True),
        ("application: object = object()\n", True),
        ("app, application = 1, 2\n", True),
        ("try:\n    from a import application\nexcept ImportError:\n    application = None\n", True),
        ("if True:\n    application = 1\n", True),
        ("from app import *\n", True),
        ("print 'python 2'\napplication = app\n", True),  # not parsable by Python 3
        ("app = Flask(__name__)\n", False),
        ("def make():\n    application = 1\n", False),
        ("# application = app\n", False),
        ("applications = []\n", False),
        ("", False),
        ("print 'python 2'\napp = 1\n", False),
    ],
)
def test_defines_application(source: str, defined: bool) -> None:
    assert defines_application(source) is defined


@pytest.mark.parametrize(("files", "entry"), [
    (["wsgi.py"], "wsgi.py"),
    (["wsgi.py", "asgi.py"], "wsgi.py"),  # the platform's own file wins
    (["asgi.py"], "asgi.py"),
    (["app.py"], None),
])
def test_the_entry_file(tmp_path: Path, files: list[str], entry: str | None) -> None:
    for name in files:
        (tmp_path / name).write_text("application = None\n")
    assert app_source.entry_file(tmp_path) == entry


def test_an_asgi_py_without_application_is_named(tmp_path: Path) -> None:
    (tmp_path / "asgi.py").write_text("app = None\n")
    with pytest.raises(errors.BuildpackError) as raised:
        app_source.check_entry_point(tmp_path, None)
    assert (raised.value.code, raised.value.title) == ("app::no-application", "asgi.py does not define `application`")
