from __future__ import annotations

import pytest
from python_buildpack import leanengine_yaml
from python_buildpack.errors import BuildpackError
from python_buildpack.leanengine_yaml import LeanEngineConfig


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", LeanEngineConfig()),
        ("# comment only\n", LeanEngineConfig()),
        ("runtime: python\n", LeanEngineConfig(runtime="python")),
        ("run: python app.py\n", LeanEngineConfig(run="python app.py")),
        ("run: '  gunicorn app:app  '\n", LeanEngineConfig(run="gunicorn app:app")),
        ("runtime: python\nrun: >-\n  python\n  app.py\n", LeanEngineConfig("python", "python app.py")),
        ("build: npm run build\n", LeanEngineConfig()),
    ],
)
def test_parse(text: str, expected: LeanEngineConfig) -> None:
    assert leanengine_yaml.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "phrase"),
    [
        ("run: [python, app.py]\n", "leanengine-yaml::bad-value", 'line 1: "run" must be'),
        ("runtime: python\nrun: 3\n", "leanengine-yaml::bad-value", "line 2"),
        ("- a\n- b\n", "leanengine-yaml::bad-value", "a mapping"),
        ("run: 'unterminated\n", "leanengine-yaml::syntax", "leanengine.yaml"),
        ("a: b: c\n", "leanengine-yaml::syntax", "line 1"),
        ("run: ''\n", "leanengine-yaml::bad-value", "non-empty"),
    ],
)
def test_parse_refuses(text: str, code: str, phrase: str) -> None:
    with pytest.raises(BuildpackError) as caught:
        leanengine_yaml.parse(text)
    assert caught.value.code == code
    assert phrase in caught.value.detail
