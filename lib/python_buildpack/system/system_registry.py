"""The `systemDependencies` names leanengine.yaml may list, one hook each.

A hook says which Debian packages it unpacks into the slug and what the app
needs besides the generic PATH and library path (see system_tree.py) to use
them after the slug moved. To support a new name, add one entry to HOOKS.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from python_buildpack.reporting import errors


@dataclass(frozen=True)
class Hook:
    name: str
    summary: str  # one line for the README and the build log
    packages: tuple[str, ...] = ()  # Debian packages, unpacked with what they need
    # Commands Debian creates with update-alternatives (which unpacking does not
    # run): link name -> file in usr/bin or usr/lib, relative to usr/bin.
    command_links: Mapping[str, str] = field(default_factory=dict)
    # Run-time variables -> glob (relative to the unpacked tree) of the directory they name.
    directory_variables: Mapping[str, str] = field(default_factory=dict)
    fonts: bool = False  # writes a fontconfig file that adds the slug's fonts
    # A PyPI package whose wheels carry the native library (when Debian has none).
    python_requirement: str | None = None
    binary_only: tuple[str, ...] = ()  # never built from source (there is nothing to build against)
    minimum_python: tuple[int, int] | None = None
    # PyPI projects (canonical names) that need what it provides, to build or at
    # run time: a failed build of one of them is advised to add this hook.
    python_projects: tuple[str, ...] = ()


_IMAGEMAGICK_TOOLS = ("animate", "compare", "composite", "conjure", "convert", "display",
                      "identify", "import", "mogrify", "montage", "stream")

HOOKS: dict[str, Hook] = {hook.name: hook for hook in (
    Hook("ffmpeg", "ffmpeg and ffprobe (Debian's ffmpeg 5.1)", packages=("ffmpeg",)),
    Hook("imagemagick", "ImageMagick 6: convert, identify, mogrify, ...",
         packages=("imagemagick",),
         command_links={tool: f"{tool}-im6.q16" for tool in _IMAGEMAGICK_TOOLS},
         python_projects=("wand",),
         # ImageMagick loads its coders (png, jpeg, ...) and configuration from
         # paths compiled in under /usr and /etc; these variables move them.
         directory_variables={
             "MAGICK_CONFIGURE_PATH": "etc/ImageMagick-6",
             "MAGICK_CODER_MODULE_PATH": "usr/lib/*/ImageMagick-6.*/modules-Q16/coders",
             "MAGICK_CODER_FILTER_PATH": "usr/lib/*/ImageMagick-6.*/modules-Q16/filters",
         }),
    Hook("fonts-wqy", "WenQuanYi Micro Hei and Zen Hei (Chinese) fonts, with fontconfig",
         packages=("fonts-wqy-microhei", "fonts-wqy-zenhei", "fontconfig"), fonts=True),
    Hook("fonts-noto", "Noto CJK fonts (Chinese, Japanese, Korean), with fontconfig",
         packages=("fonts-noto-cjk", "fontconfig"), fonts=True),
    Hook("chrome-headless", "Chromium, to run headless ($CHROME_BIN)",
         packages=("chromium", "fontconfig"),
         # /usr/bin/chromium is a wrapper script with absolute paths; the binary itself moves.
         command_links={"chromium": "../lib/chromium/chromium"},
         directory_variables={"CHROME_BIN": "usr/lib/chromium/chromium"}),
    Hook("node-canvas", "cairo, pango, libjpeg, giflib and librsvg with headers (pycairo, canvas)",
         packages=("libcairo2-dev", "libpango1.0-dev", "libjpeg-dev", "libgif-dev",
                   "librsvg2-dev", "pkg-config"),
         python_projects=("pycairo",)),
    Hook("python-talib", "TA-Lib: the TA-Lib wheel (0.6+), which bundles the C library",
         python_requirement="TA-Lib>=0.6", binary_only=("ta-lib",), minimum_python=(3, 9),
         python_projects=("ta-lib",)),
)}

DISCONTINUED: dict[str, str] = {
    "phantomjs": "PhantomJS was discontinued in 2018 and has no maintained build. Use "
                 "`chrome-headless` instead: Chromium's own headless mode does what PhantomJS did "
                 "(see the README for the path and flags).",
}


def hook_providing(project: str | None) -> str | None:
    """The hook whose packages a PyPI project needs (e.g. pycairo: node-canvas), if one does."""
    wanted = canonicalize_name(project) if project else None
    return next((hook.name for hook in HOOKS.values() if wanted in hook.python_projects), None)


def hooks_for(names: Iterable[str], python_version: str) -> list[Hook]:
    """The hooks for the listed names, in order and without repeats; unknown,
    discontinued or unsuitable names fail the build before anything runs."""
    chosen: list[Hook] = []
    for name in names:
        hook = _hook_named(name)
        _check_python(hook, python_version)
        if hook not in chosen:
            chosen.append(hook)
    return chosen


def _hook_named(name: str) -> Hook:
    key = name.strip().lower()
    if key in DISCONTINUED:
        raise errors.system_dependency_discontinued(name, DISCONTINUED[key])
    if key in HOOKS:
        return HOOKS[key]
    close = difflib.get_close_matches(key, list(HOOKS) + list(DISCONTINUED), n=1, cutoff=0.6)
    raise errors.system_dependency_unknown(name, sorted(HOOKS), close[0] if close else None)


def _check_python(hook: Hook, python_version: str) -> None:
    line = tuple(int(part) for part in python_version.split(".")[:2])
    if hook.minimum_python is not None and line < hook.minimum_python:
        wanted = ".".join(str(part) for part in hook.minimum_python)
        raise errors.system_dependency_needs_python(hook.name, wanted, python_version)
