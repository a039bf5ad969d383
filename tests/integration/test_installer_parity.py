"""uv, the default installer on Python 3.8 and later, installs what pip installs:
every fixture is built with PYTHON_INSTALLER=pip and with the default, and the
installed distributions (names, versions, files) must be the same.

A difference is a bug in the uv path, or a case that keeps pip
(lib/python_buildpack/install/installer_choice.py, README "PYTHON_INSTALLER").
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import FIXTURES, Result, RuntimeMirror, compile_app, copy_fixture, http_server, nltk_index

pytestmark = pytest.mark.integration

# Fixtures that are not compared, and why.
NOT_COMPARED = {
    "no-application-app": "its build fails by design (wsgi.py has no `application`), before anything is installed",
    "pylock-app": "only uv reads pylock.toml: PYTHON_INSTALLER=pip builds it with uv too",
}
# Fixtures without a .python-version of their own: the line to build them on.
PYTHON_LINE = {
    "flask-any-python": "3.8",  # the oldest line uv installs; its Flask is 3.0.x, not the newest
    "c-extension-app": "3.12",
}
RUNTIMES = ("3.12.1", "3.11.7", "3.8.18")  # leancloud-sdk-app is on 3.11 (gevent<23)

# Only file names are compared (RECORD's list, or installed-files.txt), so files
# both write with other contents (RECORD, INSTALLER, direct_url.json) need no
# exclusion. Listed by one installer only, whatever was installed:
_INSTALLER_FILES = (
    # pip records the bytecode it compiles; uv compiles (--compile-bytecode) without recording it.
    re.compile(r"(^|/)__pycache__/|\.pyc$"),
    # uv marks every distribution it installs as requested; pip only those asked for.
    # Nothing in the buildpack reads it (orphans are found from the roots).
    re.compile(r"\.dist-info/REQUESTED$"),
    # uv's notes of how it built a local project (its cache key), beside the metadata.
    re.compile(r"\.dist-info/uv_(cache|build)\.json$"),
)

# Each installed distribution: canonical name -> version and the files it owns.
_LIST_DISTRIBUTIONS = """
import importlib.metadata, json, re
found = {}
for dist in importlib.metadata.distributions():
    name = re.sub(r"[-_.]+", "-", dist.metadata["Name"]).lower()
    found[name] = {"version": dist.version, "files": sorted(str(f) for f in dist.files or [])}
print(json.dumps(found))
"""


def installed_distributions(app: Path) -> dict[str, dict[str, object]]:
    python = app / ".lean" / "python" / "bin" / "python"
    # -I: neither the environment nor the working directory adds to sys.path.
    listed = subprocess.run([str(python), "-I", "-c", _LIST_DISTRIBUTIONS], capture_output=True,
                            text=True, check=True, env={"PATH": "/usr/bin:/bin"}, cwd=app.parent)
    distributions: dict[str, dict[str, object]] = json.loads(listed.stdout)
    for facts in distributions.values():
        files = facts["files"]
        assert isinstance(files, list)
        facts["files"] = [f for f in files if not any(p.search(f) for p in _INSTALLER_FILES)]
    return distributions


def differences(pip: dict[str, dict[str, object]], uv: dict[str, dict[str, object]]) -> list[str]:
    found = [f"only pip installed {name} {pip[name]['version']}" for name in sorted(pip.keys() - uv.keys())]
    found += [f"only uv installed {name} {uv[name]['version']}" for name in sorted(uv.keys() - pip.keys())]
    for name in sorted(pip.keys() & uv.keys()):
        if pip[name]["version"] != uv[name]["version"]:
            found.append(f"{name}: pip {pip[name]['version']}, uv {uv[name]['version']}")
            continue
        pip_files, uv_files = (set(side[name]["files"]) for side in (pip, uv))  # type: ignore[call-overload]
        if pip_files != uv_files:
            found.append(f"{name}: files only pip wrote {sorted(pip_files - uv_files)[:5]},"
                         f" only uv wrote {sorted(uv_files - pip_files)[:5]}")
    return found


@pytest.fixture(scope="module")
def mirror(runtime_mirror: RuntimeMirror) -> RuntimeMirror:
    runtime_mirror.ensure(*RUNTIMES)
    return runtime_mirror


@pytest.fixture(scope="module")
def nltk_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nltk-app downloads its corpus after the install: from a local NLTK data server."""
    served = tmp_path_factory.mktemp("nltk-server")
    with http_server(served) as url:
        nltk_index(served, url)
        yield f"{url}index.xml"


def build(mirror: RuntimeMirror, fixture: str, where: Path, cache: Path, nltk_url: str,
          **env: str) -> tuple[Path, Result]:
    app = copy_fixture(fixture, where)
    if fixture in PYTHON_LINE:
        (app / ".python-version").write_text(f"{PYTHON_LINE[fixture]}\n")
    result = compile_app(mirror.url, app, cache, SMOKE_CHECK="0", NLTK_DATA_URL=nltk_url, **env)
    assert result.returncode == 0, result.output
    return app, result


def compared_fixtures() -> list[str]:
    return sorted(path.name for path in FIXTURES.iterdir()
                  if path.is_dir() and path.name not in NOT_COMPARED)


def test_every_fixture_is_compared_or_has_a_reason() -> None:
    assert set(NOT_COMPARED) <= {path.name for path in FIXTURES.iterdir() if path.is_dir()}
    assert len(compared_fixtures()) + len(NOT_COMPARED) == len([p for p in FIXTURES.iterdir() if p.is_dir()])


@pytest.mark.parametrize("fixture", compared_fixtures())
def test_uv_installs_what_pip_installs(mirror: RuntimeMirror, nltk_url: str, tmp_path: Path, fixture: str) -> None:
    # One CACHE_DIR per fixture: a cache shared by several apps would update one
    # app's cached install in place into another's, which keeps what the first
    # needed (an ASGI server), depending on which layers are still cached.
    # The two builds share it, and run at once: concurrent builds may share a
    # cache; they share its runtime archive and Debian packages, and the
    # installer is part of the install layer's key.
    cache = tmp_path / "cache"
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        pip_build = pool.submit(build, mirror, fixture, tmp_path / "pip", cache, nltk_url, PYTHON_INSTALLER="pip")
        uv_build = pool.submit(build, mirror, fixture, tmp_path / "uv", cache, nltk_url)
        (pip_app, _), (uv_app, result) = pip_build.result(), uv_build.result()
    assert re.search(r"^\s+Installer\s+uv$", result.output, re.M), result.output
    pip, uv = installed_distributions(pip_app), installed_distributions(uv_app)
    assert differences(pip, uv) == []
