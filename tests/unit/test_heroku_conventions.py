"""The Heroku conventions' pure parts: nltk.txt's names, when collectstatic is
the buildpack's to run, and the leftovers the log names."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.analysis import heroku_leftovers
from python_buildpack.analysis.dependency_manifest import DependencyManifest
from python_buildpack.analysis.leanengine_yaml import LeanEngineConfig, parse
from python_buildpack.install import nltk_data
from python_buildpack.launch import collectstatic
from python_buildpack.reporting import errors
from python_buildpack.runtime.python_runtime import InstalledRuntime


def test_nltk_txt_names(tmp_path: Path) -> None:
    assert nltk_data.corpora(tmp_path) == []
    (tmp_path / "nltk.txt").write_text("# corpora\npunkt\nstopwords, wordnet  omw-1.4\npunkt\n\n")
    assert nltk_data.corpora(tmp_path) == ["punkt", "stopwords", "wordnet", "omw-1.4"]
    (tmp_path / "nltk.txt").write_text("punkt\n../../etc\n")
    with pytest.raises(errors.BuildpackError) as raised:
        nltk_data.corpora(tmp_path)
    assert raised.value.code == "nltk::unknown-corpus"


def django_runtime(tmp_path: Path) -> InstalledRuntime:
    site = tmp_path / "python" / "lib" / "python3.12" / "site-packages"
    (site / "Django-5.2.dist-info").mkdir(parents=True)
    return InstalledRuntime("3.12.1", tmp_path / "python")


def test_when_collectstatic_is_the_builds_to_run(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    runtime = django_runtime(tmp_path)
    assert not collectstatic.wanted(app, runtime, LeanEngineConfig(), None)  # no manage.py
    (app / "manage.py").write_text("")
    assert collectstatic.wanted(app, runtime, LeanEngineConfig(), None)
    assert collectstatic.wanted(app, runtime, LeanEngineConfig(), "0")
    assert not collectstatic.wanted(app, runtime, LeanEngineConfig(), "1")
    own = parse("build: python manage.py collectstatic --noinput\n")
    assert not collectstatic.wanted(app, runtime, own, None)
    no_django = InstalledRuntime("3.12.1", tmp_path / "elsewhere")
    assert not collectstatic.wanted(app, no_django, LeanEngineConfig(), None)


def test_leftovers_are_named(tmp_path: Path) -> None:
    for name in ("app.json", ".slugignore", "Aptfile", "Pipfile"):
        (tmp_path / name).write_text("")
    found = heroku_leftovers.notices(tmp_path, {"BUILD_WITH_GEO_LIBRARIES": "1"}, DependencyManifest("requirements"))
    text = "\n".join(found)
    for name in ("app.json", ".slugignore", "Aptfile", "BUILD_WITH_GEO_LIBRARIES", "Pipfile: not used"):
        assert name in text
