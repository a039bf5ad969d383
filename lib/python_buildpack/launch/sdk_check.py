"""`functionsMode: strict`: the app must use the LeanCloud SDK.

Checked for real: the app's own Python imports `application` (placeholder
platform variables set) and calls it for `/__engine/1/ping` the way its server
will, as the platform's health check does: a WSGI app through the slug's WSGI
shim, an ASGI app with an HTTP scope, a Tornado app over a local socket.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from python_buildpack.reporting import errors
from python_buildpack.runtime.python_runtime import InstalledRuntime
from python_buildpack.support import commands

# What the platform sets for a running app, with placeholder values: the build's
# checks (this one and the smoke check) start the app with them.
PLACEHOLDER_PLATFORM_ENV = {
    "LEANCLOUD_APP_ID": "build-check-app-id",
    "LEANCLOUD_APP_KEY": "build-check-app-key",
    "LEANCLOUD_APP_MASTER_KEY": "build-check-master-key",
    "LEANCLOUD_APP_PORT": "3000",
    "LEANCLOUD_APP_ENV": "production",
    "LEANCLOUD_REGION": "CN",
    "LEANCLOUD_AVAILABLE_CPUS": "1",
}


def check_sdk_serves_ping(runtime: InstalledRuntime, app_dir: Path, slug_root: Path,
                          env: Mapping[str, str], *, kind: str = "wsgi", module: str = "wsgi") -> None:
    probe = resources.files("python_buildpack.launch").joinpath("data/probe_ping.py")
    probe_env = {**env, **PLACEHOLDER_PLATFORM_ENV, "SLUG_ROOT": str(slug_root)}
    with resources.as_file(probe) as path:
        try:
            lines = commands.capture([str(runtime.python), str(path), kind, module], env=probe_env,
                                     cwd=app_dir)
        except commands.CommandFailed as failure:
            raise errors.functions_mode_without_sdk(
                "Calling the app for /__engine/1/ping failed:\n" + "\n".join(failure.tail[-10:])
            ) from failure
    result = json.loads(lines.strip().splitlines()[-1])
    if not result["ok"]:
        raise errors.functions_mode_without_sdk(f"Found: {result['reason']}.")
