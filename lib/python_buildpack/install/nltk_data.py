"""NLTK corpora listed in nltk.txt (Heroku's convention), downloaded at build
time into the slug (`.lean/nltk_data`, NLTK_DATA at run time).

Only when the app has nltk installed. The download runs NLTK's own downloader
with the app's Python, from NLTK_DATA_URL (the index.xml of an NLTK data
server the build can reach) when set, else NLTK's default. The corpora are
cached keyed by the list, the index and nltk's version: a rebuild with the
same list copies them from the cache.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from python_buildpack.reporting import build_report, errors, output
from python_buildpack.runtime.python_runtime import InstalledRuntime
from python_buildpack.support import app_files, commands, partial_files, slug_layout

FILE_NAME = "nltk.txt"
URL_SETTING = "NLTK_DATA_URL"
DATA_DIR = f"{slug_layout.SLUG_DIR}/nltk_data"
PROFILE = "nltk.sh"
_MAX_BYTES = 64 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
# NLTK wraps its messages at 70 columns behind a `[nltk_data]` prefix.
_NOT_FOUND = re.compile(r"Package '(?P<name>[^']+)'\s+not\s+found\s+in\s+index")
_PREFIX = re.compile(r"^\[nltk_data\]\s*")


def corpora(app_dir: Path) -> list[str]:
    """The names in nltk.txt: one per line (or separated by spaces or commas), # comments."""
    data = app_files.read_app_file(app_dir, FILE_NAME, _MAX_BYTES)
    if data is None:
        return []
    text = data[:_MAX_BYTES].decode("utf-8", errors="replace")
    names = [
        name for line in text.splitlines() for name in re.split(r"[\s,]+", line.split("#", 1)[0]) if name
    ]
    bad = [name for name in names if not _NAME.fullmatch(name)]
    if bad:
        raise errors.nltk_unknown_corpora(bad, "names are letters, digits, `_`, `-` and `.`")
    return sorted(set(names), key=names.index)


def nltk_version(installed: InstalledRuntime) -> str | None:
    for dist_info in installed.home.glob("lib/python*/site-packages/nltk-*.dist-info"):
        return dist_info.name[len("nltk-") : -len(".dist-info")]
    return None


def provide(
    app_dir: Path,
    slug_root: Path,
    installed: InstalledRuntime,
    env: Mapping[str, str],
    *,
    cache_dir: Path | None,
    url: str | None,
) -> None:
    """Download (or restore) the corpora of nltk.txt into the slug."""
    names = corpora(app_dir)
    if not names:
        return
    version = nltk_version(installed)
    if version is None:
        output.info(f"{FILE_NAME} is there but nltk is not installed: its corpora are not downloaded")
        return
    output.heading("NLTK corpora")
    output.info(f"From {FILE_NAME} (Heroku's convention): {', '.join(names)}")
    target = slug_root / DATA_DIR
    shutil.rmtree(target, ignore_errors=True)
    key = hashlib.sha256(f"{version}\n{url or ''}\n{' '.join(names)}".encode()).hexdigest()[:24]
    cached = cache_dir / "nltk" / key if cache_dir is not None else None
    if cached is not None and cached.is_dir():
        shutil.copytree(cached, target, symlinks=True)
        output.info("Restored from the cache: the same list")
        build_report.record_cache("nltk corpora", "restored: same list")
    else:
        _download(names, target, installed, env, url)
        if cached is not None:
            _save(target, cached)
        build_report.record_cache("nltk corpora", "downloaded")
    _write_profile(slug_root)
    output.info(f"In {DATA_DIR}; NLTK_DATA points there at run time")


def _download(
    names: list[str], target: Path, installed: InstalledRuntime, env: Mapping[str, str], url: str | None
) -> None:
    argv = [str(installed.python), "-m", "nltk.downloader", "--exit-on-error", "-d", str(target)]
    argv += ["-u", url] if url else []
    try:
        printed = commands.run([*argv, *names], env=env)
    except commands.CommandFailed as failure:
        raise _failure(failure.tail, names, url) from None
    if any("Error loading" in line or "not found in index" in line for line in printed):
        raise _failure(printed, names, url)


def _failure(lines: list[str], names: list[str], url: str | None) -> errors.BuildpackError:
    text = " ".join(_PREFIX.sub("", line.strip()) for line in lines)
    unknown = sorted({found.group("name") for found in _NOT_FOUND.finditer(text)})
    if unknown:
        return errors.nltk_unknown_corpora(
            unknown, f"the index ({url or 'NLTK default'}) has no such package"
        )
    return errors.nltk_download_failed(
        url or "NLTK's default index", [line for line in lines if line.strip()][-6:]
    )


def _save(target: Path, cached: Path) -> None:
    partial = partial_files.partial_path(cached)
    try:
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(target, partial, symlinks=True)
        partial.replace(cached)
    except OSError:  # only a cache: a full disk there fails nothing
        shutil.rmtree(partial, ignore_errors=True)


def _write_profile(slug_root: Path) -> None:
    directory = slug_root / ".profile.d"
    directory.mkdir(exist_ok=True)
    (directory / PROFILE).write_text(
        f"# Written by the LeanEngine Python buildpack: the corpora of {FILE_NAME}.\n"
        f'export NLTK_DATA="$HOME/{DATA_DIR}${{NLTK_DATA:+:$NLTK_DATA}}"\n'
    )
