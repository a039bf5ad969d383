"""`make demo`: pack the local CPythons into a mirror, build a fixture app, serve it, show it.

Everything goes under .cache/demo/; run it again and the packed runtimes are reused.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers import (
    PYENV_VERSIONS,
    RuntimeMirror,
    copy_fixture,
    host_environment,
    http_server,
    move_slug,
    run_bin,
    start_slug,
    stop_with_sigterm,
    wait_for_http,
    web_command,
)

DEMO = Path(__file__).resolve().parents[1] / ".cache" / "demo"


def say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def pack_local_pythons(mirror: RuntimeMirror) -> None:
    prefixes = sorted(p for p in PYENV_VERSIONS.glob("*") if (p / "bin").is_dir()) \
        if PYENV_VERSIONS.is_dir() else []
    if not prefixes:
        sys.exit(f"The demo packs installed CPythons from {PYENV_VERSIONS}, and there are none.\n"
                 "Set PYENV_VERSIONS_DIR to a directory of CPython prefixes (e.g. pyenv's versions).")
    say(f"Packing {len(prefixes)} local CPython installs into {mirror.directory}")
    for prefix in prefixes:
        if prefix.name in mirror.versions():
            print(f"       {prefix.name}: already packed")
            continue
        result = run_bin("package-runtime", prefix, mirror.directory)
        print(result.output.rstrip())


def main() -> int:
    mirror_dir = DEMO / "mirror"
    mirror_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("build", "moved"):
        shutil.rmtree(DEMO / stale, ignore_errors=True)
    with http_server(mirror_dir) as url:
        mirror = RuntimeMirror(mirror_dir, url)
        pack_local_pythons(mirror)
        app = copy_fixture("flask-app", DEMO / "build")
        say(f"bin/detect {app}")
        print(run_bin("detect", app).stdout, end="")
        say(f"bin/compile {app} (mirror served at {url})")
        result = run_bin("compile", app, DEMO / "cache",
                         env=host_environment(PYTHON_RUNTIME_MIRROR=url))
        print(result.output.rstrip())
        if result.returncode != 0:
            return result.returncode
    slug = move_slug(app, DEMO / "moved")
    say(f"bin/release {slug} (the slug was moved there after the build)")
    print(run_bin("release", slug).stdout, end="")
    command = web_command(slug)
    with start_slug(slug, command, DEMO / "web.log") as running:
        status, body = wait_for_http(running, "/")
        say(f"GET {running.url('/')} -> {status}: {body.strip()}")
        seconds = stop_with_sigterm(running)
    say(f"SIGTERM: stopped in {seconds:.1f}s. The app's log:")
    print(running.output().rstrip())
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
