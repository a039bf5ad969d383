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
# Where the runtimes of a mirror packed on Debian 12 (glibc 2.36, x86-64) run
# and systemDependencies' apt finds the same package names. Ubuntu 22.04 is
# left out: its glibc 2.35 is older than the one the runtimes were built with.
DISTROS = ({"name": "debian", "version": "12"},
           {"name": "ubuntu", "version": "24.04"})


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
