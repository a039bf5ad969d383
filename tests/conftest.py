from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import RuntimeMirror, http_server


@pytest.fixture(scope="session")
def runtime_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeMirror]:
    """Runtime archives made by bin/package-runtime, served over HTTP on 127.0.0.1."""
    directory = tmp_path_factory.mktemp("mirror")
    with http_server(directory) as url:
        yield RuntimeMirror(directory, url)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CACHE_DIR for builds that do not test the cache itself (saves downloads)."""
    return tmp_path_factory.mktemp("cache")
