from __future__ import annotations

import pytest
from python_buildpack.analysis.app_source import defines_application


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
