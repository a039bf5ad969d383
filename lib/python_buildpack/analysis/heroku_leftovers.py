"""What an app from a Heroku-style platform carries that this buildpack does
not use, each named in the log with the LeanEngine way to do the same.

(A runtime.txt beside .python-version is named by python_version; a Procfile,
bin/pre_compile, bin/post_compile, nltk.txt and Django's collectstatic are
honoured.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from python_buildpack.analysis.dependency_manifest import PIPFILE, DependencyManifest

_FILES = {
    "app.json": "Heroku's app manifest is not read: its `env` go in the platform's environment"
    " variables, its `scripts` in leanengine.yaml (`build:`), its add-ons are not provisioned",
    ".slugignore": "not read: every uploaded file goes into the slug; leave the files out of the upload",
    "Aptfile": "not read (heroku-buildpack-apt): system packages come from `systemDependencies`"
    " in leanengine.yaml",
    ".buildpacks": "not read: this platform runs one buildpack per app",
}
_VARIABLES = {
    "BUILD_WITH_GEO_LIBRARIES": "GDAL/GEOS/PROJ are not bundled; install the wheels that ship them"
    " (e.g. `shapely`, `pyproj`) or use systemDependencies",
    "DEBUG_COLLECTSTATIC": "collectstatic's output is in the step log; PRINT_BUILD_LOGS=1 streams it",
    "PIP_EXTRA_INDEX_URL_FILE": "not read; set PIP_EXTRA_INDEX_URL",
}


def notices(app_dir: Path, app_env: Mapping[str, str], manifest: DependencyManifest) -> list[str]:
    found = [f"{name}: {why}" for name, why in _FILES.items() if (app_dir / name).exists()]
    found += [f"{name} (a Heroku setting): {why}" for name, why in _VARIABLES.items() if name in app_env]
    if manifest.manager == "requirements" and (app_dir / PIPFILE).is_file():
        found.append("Pipfile: not used, requirements.txt is installed (delete one of them to make it clear)")
    return found
