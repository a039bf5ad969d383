"""`make bench`: build-speed and slug-size figures, all from one run on one machine.

Scenarios on fixtures/flask-app (Python 3.12), each the median of --trials runs:
cold build (empty CACHE_DIR), no-change rebuild, rebuild after adding one
requirement, rebuild after changing .python-version (3.12 -> 3.11), with the
default installer and again with PYTHON_INSTALLER=pip; beside them the
baseline a user would type (`python -m venv` + `pip install -r
requirements.txt`, pip cache warm). Then fixtures/fastapi-app (an ASGI app:
the build finds out what `application` is and adds uvicorn): a cold build and
a no-change rebuild, which must not classify the app again. Then fixtures/uv-app
(a uv.lock installed exactly): cold, no-change rebuild, and a rebuild after one
locked version changed. Every rebuild starts from a copy of the same
warm cache, in a new build directory (platforms build in a new place each time).
Then bin/image on a cold build's slug: export to an OCI layout, a first push
with the base already in a local registry, a push after a code-only change.
Then each systemDependencies name alone on the same app: its size in the slug,
a build that unpacks from a warm package cache (the downloads, which depend on
the network, are not timed) and a no-change rebuild. Prints the tables and
writes BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from helpers import (
    FIXTURES,
    REPO,
    RuntimeMirror,
    compile_app,
    http_server,
    pyenv_prefix,
    run_bin,
)
from python_buildpack.system.system_registry import HOOKS

WORK = REPO / ".cache" / "bench"
EXTRA_REQUIREMENT = "six==1.17.0"


def timed(action: Callable[[], None]) -> float:
    # Flush what the setup wrote (copies of caches): on a VM disk, pending
    # writeback otherwise lands inside the next measurement.
    os.sync()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


class Bench:
    def __init__(self, mirror_url: str, trials: int, installer: str = "default", smoke_check: str = "1",
                 fixture: str = "flask-app") -> None:
        self.mirror_url = mirror_url
        self.trials = trials
        self.installer = installer
        self.smoke_check = smoke_check
        self.fixture = fixture
        # Build directories and caches are named per fixture and installer: app-<tag><installer>-<n>.
        self.tag = "" if fixture == "flask-app" else f"{fixture}-"
        self.counter = 0

    def fresh_source(self, edit: Callable[[Path], None] | None = None) -> Path:
        self.counter += 1
        app = WORK / "builds" / f"app-{self.tag}{self.installer}-{self.counter}"
        shutil.copytree(FIXTURES / self.fixture, app)
        if edit:
            edit(app)
        return app

    def compile(self, app: Path, cache: Path) -> None:
        # "default": no PYTHON_INSTALLER, what an app gets (uv on 3.8+, where it gives pip's result).
        chosen = {} if self.installer == "default" else {"PYTHON_INSTALLER": self.installer}
        result = compile_app(self.mirror_url, app, cache, SMOKE_CHECK=self.smoke_check, **chosen)
        if result.returncode != 0:
            raise SystemExit(f"build failed:\n{result.output}")

    def cold(self) -> list[float]:
        times = []
        for index in range(self.trials):
            cache = WORK / "caches" / f"cold-{self.tag}{self.installer}-{self.smoke_check}-{index}"
            app = self.fresh_source()
            times.append(timed(lambda app=app, cache=cache: self.compile(app, cache)))
        return times

    def rebuilds(self, warm: Path, edit: Callable[[Path], None] | None) -> list[float]:
        times = []
        for index in range(self.trials):
            cache = WORK / "caches" / f"rebuild-{self.tag}{self.installer}-{self.counter}-{index}"
            shutil.copytree(warm, cache, symlinks=True)
            app = self.fresh_source(edit)
            times.append(timed(lambda app=app, cache=cache: self.compile(app, cache)))
        return times

    def baseline(self, python: Path, pip_cache: Path) -> list[float]:
        """What a user types: a venv and pip, with the host's pip configuration ignored."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYENV"))}
        env.update(PIP_CONFIG_FILE=os.devnull, PIP_CACHE_DIR=str(pip_cache),
                   PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_CERT="/etc/ssl/certs/ca-certificates.crt")

        def one(target: Path) -> None:
            subprocess.run([str(python), "-m", "venv", str(target / "venv")], check=True, env=env)
            subprocess.run([str(target / "venv" / "bin" / "pip"), "install", "-q", "-r",
                            str(FIXTURES / "flask-app" / "requirements.txt")], check=True, env=env)

        one(WORK / "baseline-warmup")
        return [timed(lambda i=i: one(WORK / f"baseline-{i}")) for i in range(self.trials)]


def system_dependency_rows(mirror_url: str) -> list[str]:
    rows = ["| name | what it installs | size in the slug | build, packages cached | rebuild, no change |",
            "|---|---|---|---|---|"]
    for name, hook in HOOKS.items():
        cache = WORK / "caches" / f"system-{name}"
        builds = []
        for attempt in range(3):
            app = WORK / "builds" / f"system-{name}-{attempt}"
            shutil.copytree(FIXTURES / "flask-app", app)
            (app / "leanengine.yaml").write_text(f"systemDependencies: [{name}]\n")
            builds.append(app)
        Bench(mirror_url, 1).compile(builds[0], cache)  # downloads: not timed
        shutil.rmtree(cache / "python-buildpack" / "layers" / "system", ignore_errors=True)
        unpack = timed(lambda app=builds[1], cache=cache: Bench(mirror_url, 1).compile(app, cache))
        rebuild = timed(lambda app=builds[2], cache=cache: Bench(mirror_url, 1).compile(app, cache))
        if hook.packages:
            size = size_mb(builds[2] / ".lean" / "system")
        else:  # a PyPI wheel and what it needs, in the runtime's site-packages
            site = next((builds[2] / ".lean" / "python" / "lib").glob("python3*/site-packages"))
            size = sum(size_mb(path) for pattern in ("talib", "ta_lib*", "numpy*")
                       for path in site.glob(pattern))
        rows.append(f"| `{name}` | {hook.summary} | {size:.1f} MB | {unpack:.1f} s | {rebuild:.2f} s |")
        print(rows[-1], flush=True)
    return rows


def image_rows(slug: Path, trials: int) -> list[str]:
    """bin/image on the cold build's slug, against a registry on 127.0.0.1 holding the base."""
    import image_support  # noqa: PLC0415 -- test support: a registry and the mmdebstrap base

    work = WORK / "image"
    shutil.rmtree(work, ignore_errors=True)
    base_layer = work / "base.tar.gz"
    work.mkdir(parents=True)
    image_support.gzip_file(image_support.base_rootfs(), base_layer)
    env = image_support.image_env()

    def image(*args: str, cold: bool = False) -> None:
        if cold:  # no layer built before: what the first bin/image after a bin/compile does
            shutil.rmtree(Path.home() / ".cache/leanengine-python-buildpack/layers", ignore_errors=True)
        result = run_bin("image", *args, env=env)
        if result.returncode != 0:
            raise SystemExit(f"bin/image failed:\n{result.output}")

    with image_support.registry(work / "registry", image_support.htpasswd_auth(work)) as running:
        base = f"{running.host}/{image_support.BASE_REPOSITORY}"
        image_support.upload_image(running.host, image_support.BASE_REPOSITORY, "latest", base_layer)
        image(str(slug), f"{running.host}/warm/up", "--base", base, "--oci-layout", str(work / "layout"))
        export = [timed(lambda: image(str(slug), f"{running.host}/export/app", "--base", base, "--oci-layout",
                                      str(work / "layout"), cold=True)) for _ in range(trials)]
        first = [timed(lambda index=index: image(str(slug), f"{running.host}/first/app{index}",
                                                 "--base", base, cold=True)) for index in range(trials)]
        changed = []
        for index in range(trials):
            (slug / "wsgi.py").write_text((slug / "wsgi.py").read_text() + f"\n# change {index}\n")
            changed.append(timed(lambda: image(str(slug), f"{running.host}/first/app0", "--base", base)))
    return [
        row("`bin/image` export of the slug to an OCI layout (every layer written)", export),
        row("`bin/image` first push, the base already in the registry (mounted)", first),
        row("`bin/image` push after a code-only change (runtime layer from the cache)", changed),
    ]


def add_requirement(app: Path) -> None:
    with open(app / "requirements.txt", "a") as handle:
        handle.write(EXTRA_REQUIREMENT + "\n")


def change_a_locked_version(app: Path) -> None:
    """Pin packaging lower in pyproject.toml and lock again with the real uv (not timed)."""
    pyproject = app / "pyproject.toml"
    gunicorn = '"gunicorn==23.0.0",'
    pinned = pyproject.read_text().replace(gunicorn, gunicorn + '\n    "packaging==26.3",')
    pyproject.write_text(pinned)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(WORK), "UV_NO_CONFIG": "1",
           "UV_CACHE_DIR": str(WORK / "uv-cache"), "UV_PYTHON_DOWNLOADS": "never",
           "UV_SYSTEM_CERTS": "1"}
    python = pyenv_prefix("3.12.1") / "bin" / "python3.12"
    subprocess.run([str(REPO / ".tools" / "venv" / "bin" / "uv"), "lock", "--python", str(python)], cwd=app,
                   env=env, check=True, capture_output=True)


def change_python(app: Path) -> None:
    (app / ".python-version").write_text("3.11\n")


def size_mb(path: Path) -> float:
    out = subprocess.run(["du", "-sb", str(path)], capture_output=True, text=True, check=True).stdout
    return int(out.split()[0]) / 1e6


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.system()} {platform.release()}, {os.cpu_count()} cores, {memory:.0f} GiB, "
            f"{platform.machine()}")


def row(name: str, times: list[float], baseline: float | None = None) -> str:
    """A table row; with the baseline's median, the ratio to it (below 1: faster than
    what a user would type)."""
    ratio = f" {statistics.median(times) / baseline:.2f} |" if baseline else " |"
    return (f"| {name} | {statistics.median(times):.2f} s | {min(times):.2f} s | {max(times):.2f} s "
            f"| {len(times)} |{ratio}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=5)
    trials = parser.parse_args().trials
    shutil.rmtree(WORK / "builds", ignore_errors=True)
    shutil.rmtree(WORK / "caches", ignore_errors=True)
    for stale in WORK.glob("baseline*"):
        shutil.rmtree(stale)
    mirror_dir = WORK / "mirror"
    shutil.rmtree(mirror_dir, ignore_errors=True)  # archives from this checkout's packer
    mirror_dir.mkdir(parents=True)
    with http_server(mirror_dir) as url:
        mirror = RuntimeMirror(mirror_dir, url)
        mirror.ensure("3.11.7", "3.12.1")
        bench = Bench(url, trials)
        print(f"Benchmarking on {machine()}, {trials} trials each ...", flush=True)
        cold = bench.cold()
        warm = WORK / "caches" / "cold-default-1-0"
        no_change = bench.rebuilds(warm, None)
        one_more = bench.rebuilds(warm, add_requirement)
        other_python = bench.rebuilds(warm, change_python)
        pip_bench = Bench(url, trials, installer="pip")
        pip_cold = pip_bench.cold()
        pip_one_more = pip_bench.rebuilds(WORK / "caches" / "cold-pip-1-0", add_requirement)
        pip_other_python = pip_bench.rebuilds(WORK / "caches" / "cold-pip-1-0", change_python)
        no_smoke = Bench(url, trials, smoke_check="0")
        no_smoke.counter = 1000  # its own build directories
        cold_without_smoke = no_smoke.cold()
        asgi = Bench(url, trials, fixture="fastapi-app")
        asgi_cold = asgi.cold()
        asgi_no_change = asgi.rebuilds(WORK / "caches" / "cold-fastapi-app-default-1-0", None)
        locked = Bench(url, trials, fixture="uv-app")
        locked_cold = locked.cold()
        locked_warm = WORK / "caches" / "cold-uv-app-default-1-0"
        locked_no_change = locked.rebuilds(locked_warm, None)
        locked_one_pin = locked.rebuilds(locked_warm, change_a_locked_version)
        system_rows = system_dependency_rows(url)
    baseline = bench.baseline(pyenv_prefix("3.12.1") / "bin" / "python3.12", WORK / "baseline-pip-cache")
    slug = WORK / "builds" / "app-default-1"
    images = image_rows(WORK / "builds" / "app-default-2", trials)
    base = statistics.median(baseline)

    def at(name: str, times: list[float]) -> str:
        return row(name, times, base)

    table = [
        "| scenario | median | min | max | runs | median / baseline |",
        "|---|---|---|---|---|---|",
        at("cold build (empty cache; runtime from the local mirror, packages from PyPI)", cold),
        at("cold build with `SMOKE_CHECK=0` (what the smoke check costs)", cold_without_smoke),
        at("rebuild, nothing changed", no_change),
        at(f"rebuild after adding `{EXTRA_REQUIREMENT}` to requirements.txt", one_more),
        at("rebuild after changing .python-version 3.12 -> 3.11", other_python),
        at("baseline: `python3.12 -m venv` + `pip install -r requirements.txt`, warm pip cache", baseline),
        at("with `PYTHON_INSTALLER=pip`: cold build", pip_cold),
        at(f"with `PYTHON_INSTALLER=pip`: rebuild after adding `{EXTRA_REQUIREMENT}`", pip_one_more),
        at("with `PYTHON_INSTALLER=pip`: rebuild after changing .python-version to 3.11", pip_other_python),
        at("`fixtures/fastapi-app` (ASGI): cold build (the kind found, uvicorn added)", asgi_cold),
        at("`fixtures/fastapi-app` (ASGI): rebuild, nothing changed (the kind remembered)", asgi_no_change),
        at("`fixtures/uv-app` (`uv.lock`): cold build", locked_cold),
        at("`fixtures/uv-app` (`uv.lock`): rebuild, nothing changed", locked_no_change),
        at("`fixtures/uv-app` (`uv.lock`): rebuild after one locked version changed"
            " (packaging 26.4 -> 26.3)", locked_one_pin),
        *images,
    ]
    sizes = (f"Slug of the cold build: {size_mb(slug):.1f} MB, of which the Python runtime with the "
             f"app's packages (`.lean/python`) {size_mb(slug / '.lean' / 'python'):.1f} MB.")
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join([
        "# Benchmarks",
        "",
        f"Written by `make bench` ({Path(__file__).name}) on {stamp}, on {machine()}.",
        "App: `fixtures/flask-app` (Flask, Python 3.12). Wall time of `bin/compile`, each scenario in",
        "a new build directory; rebuilds start from a copy of the same warm cache. The default",
        "installer (no `PYTHON_INSTALLER`: uv on Python 3.8 and later), unless the row names pip.",
        "The last column is the median over the baseline's median, measured in the same run: below 1,",
        "the build is faster than the `venv` + `pip install` a user would type.",
        "",
        *table,
        "",
        sizes,
        "",
        "## systemDependencies",
        "",
        "Each name alone in `leanengine.yaml` of the same app (one run each). Sizes are what the",
        "name adds to the slug: `.lean/system`, or for `python-talib` the wheels in site-packages.",
        "",
        *system_rows,
        "",
    ])
    (REPO / "BENCHMARKS.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
