"""Django's collectstatic, run at build time as Heroku and Cloud Foundry do.

When Django is installed, the app has manage.py, its settings enable
django.contrib.staticfiles and set STATIC_ROOT, the build runs
`python manage.py collectstatic --noinput` after the build commands, so the
files are in the slug when the app starts (whitenoise and the like serve
them from there). DISABLE_COLLECTSTATIC=1 turns it off; an app whose own
`build:` runs collectstatic is left to it. A failure fails the build and
quotes Django.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from python_buildpack.analysis.leanengine_yaml import Command, LeanEngineConfig
from python_buildpack.launch.sdk_check import PLACEHOLDER_PLATFORM_ENV
from python_buildpack.reporting import errors, output
from python_buildpack.runtime.python_runtime import InstalledRuntime
from python_buildpack.support import commands

SWITCH = "DISABLE_COLLECTSTATIC"
_MANAGE = "manage.py"
# Read through manage.py, so the app's own DJANGO_SETTINGS_MODULE is used.
_PROBE = (
    "import json; from django.conf import settings;"
    " print(json.dumps({'staticfiles': 'django.contrib.staticfiles' in settings.INSTALLED_APPS,"
    " 'static_root': str(getattr(settings, 'STATIC_ROOT', None) or '')}))"
)


def wanted(
    app_dir: Path, installed: InstalledRuntime, config: LeanEngineConfig, disabled: str | None
) -> bool:
    """Whether this is a Django app whose static files the build should collect."""
    if not (app_dir / _MANAGE).is_file() or not _has_django(installed):
        return False
    if disabled and disabled.lower() not in ("0", "false", "no"):
        output.info(f"Django collectstatic: skipped ({SWITCH}={disabled} in the app's environment)")
        return False
    if any(isinstance(step, Command) and "collectstatic" in step.text for step in config.build):
        output.info("Django collectstatic: the app's `build:` runs it; not run again")
        return False
    return True


def collect(app_dir: Path, installed: InstalledRuntime, env: Mapping[str, str]) -> None:
    output.heading("Django collectstatic")
    output.info(f"Heroku's convention; {SWITCH}=1 in the app's environment turns it off")
    run_env = {**PLACEHOLDER_PLATFORM_ENV, **env}
    python = str(installed.python)
    try:
        printed = commands.capture([python, _MANAGE, "shell", "-c", _PROBE], env=run_env, cwd=app_dir)
        found = json.loads(printed.strip().splitlines()[-1])
    except commands.CommandFailed as failure:
        raise errors.collectstatic_failed("reading the settings", failure.exit_code, failure.tail) from None
    except (ValueError, IndexError):
        raise errors.collectstatic_failed("reading the settings", 0, [printed[-300:]]) from None
    if not found.get("staticfiles"):
        output.info("Skipped: the settings do not enable django.contrib.staticfiles")
        return
    if not found.get("static_root"):
        output.info("Skipped: STATIC_ROOT is not set in the settings (it says where the files go)")
        return
    try:
        commands.run([python, _MANAGE, "collectstatic", "--noinput"], env=run_env, cwd=app_dir)
    except commands.CommandFailed as failure:
        raise errors.collectstatic_failed(
            "collecting the static files", failure.exit_code, failure.tail
        ) from None
    output.info(f"Static files collected into {_shown(found['static_root'], app_dir)}")


def _has_django(installed: InstalledRuntime) -> bool:
    return any(installed.home.glob("lib/python*/site-packages/[Dd]jango-*.dist-info"))


def _shown(path: str, app_dir: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(app_dir.resolve()))
    except ValueError:
        return path
