"""bin/detect on real directories: the platform's detection rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_bin

pytestmark = pytest.mark.integration

CASES = [
    # (files, detected)
    ({"wsgi.py": "application = None\n", "requirements.txt": ""}, True),
    ({"wsgi.py": ""}, False),
    ({"asgi.py": "application = None\n", "requirements.txt": ""}, True),  # Django's other entry point
    ({"asgi.py": ""}, False),
    ({"requirements.txt": "flask\n"}, False),
    ({}, False),
    ({"leanengine.yaml": "runtime: python\n", "main.py": ""}, True),
    ({"leanengine.yaml": "runtime: nodejs\n", "wsgi.py": "", "requirements.txt": ""}, False),
    ({"leanengine.yaml": "runtime: go\n"}, False),
    ({"leanengine.yaml": "run: python app.py\n", "wsgi.py": "", "requirements.txt": ""}, True),
    ({"leanengine.yaml": ": : broken [", "wsgi.py": "", "requirements.txt": ""}, True),
    ({"package.json": "{}", "index.js": ""}, False),
]


@pytest.mark.parametrize(("files", "detected"), CASES)
def test_detect(tmp_path: Path, files: dict[str, str], detected: bool) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    result = run_bin("detect", tmp_path)
    assert result.returncode == (0 if detected else 1)
    assert result.stdout == ("Python\n" if detected else "")
    assert result.stderr == ""


def test_detect_requires_a_directory(tmp_path: Path) -> None:
    result = run_bin("detect", tmp_path / "missing")
    assert result.returncode == 1
    assert result.stdout == ""
