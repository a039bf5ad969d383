"""buildpack.toml (Buildpack API 0.10, "buildpack.toml (TOML)"), written into
the packaged buildpack by `make package` with the version of
python_buildpack.BUILDPACK_VERSION.

clear-env = true: the lifecycle then leaves the platform's variables in
CNB_PLATFORM_DIR/env/ instead of exporting them, and the build reads them
from there as the classic build reads ENV_DIR: the same refusals, the same
redaction, and the app's variables reach its commands only with
exposeEnvironmentsOnBuild.
"""

from __future__ import annotations

from typing import Any

import tomli_w

from python_buildpack import BUILDPACK_VERSION

API = "0.10"
ID = "leancloud/python"
# Where the build is known to work: Debian 12 (the runtimes of a mirror packed
# here need glibc 2.36; systemDependencies name Debian 12's packages; the
# package's vendored code is for the python3 it was made with, Debian 12's
# 3.11). Ubuntu 22.04 has an older glibc; Ubuntu 24.04 has python3.12 (a
# package made with it) and a chromium that is only a snap stub: neither was
# tried, so neither is claimed.
DISTROS = ({"name": "debian", "version": "12"},)


def descriptor(version: str = BUILDPACK_VERSION) -> dict[str, Any]:
    return {
        "api": API,
        "buildpack": {
            "id": ID,
            "name": "LeanEngine Python",
            "version": version,
            "description": "Builds Python web apps as LeanEngine (Cloud Engine) did: "
                           "CPython, pip or uv, leanengine.yaml, systemDependencies.",
            "keywords": ["python", "leanengine", "leancloud"],
            "clear-env": True,
        },
        "targets": [{"os": "linux", "arch": "amd64", "distros": [dict(d) for d in DISTROS]}],
    }


def buildpack_toml(version: str = BUILDPACK_VERSION) -> str:
    return tomli_w.dumps(descriptor(version))
