"""bin/image's command line, parsed without printing (only output.py prints)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from python_buildpack.reporting import errors

_VALUED = {
    "--base": "base",
    "--oci-layout": "oci_layout",
    "--tarball": "tarball",
    "--kubernetes": "kubernetes",
    "--timezone": "timezone",
    "--source": "source",
    "--revision": "revision",
    "--version": "version",
}
_FLAGS = {"--plain-http": "plain_http"}


@dataclass
class ImageArguments:
    build_dir: str = ""
    image_ref: str = ""
    base: str | None = None
    oci_layout: str | None = None
    tarball: str | None = None
    kubernetes: str | None = None
    timezone: str = "UTC"
    source: str = ""
    revision: str = ""
    version: str = ""
    plain_http: bool = False

    @property
    def pushes(self) -> bool:
        return self.oci_layout is None and self.tarball is None

    def paths(self) -> dict[str, Path]:
        found = {"oci-layout": self.oci_layout, "tarball": self.tarball, "kubernetes": self.kubernetes}
        return {name: Path(value) for name, value in found.items() if value}


def parse_arguments(args: list[str]) -> ImageArguments:
    parsed = ImageArguments()
    positional: list[str] = []
    index = 0
    while index < len(args):
        argument = args[index]
        name, equals, inline = argument.partition("=")
        if name in _VALUED:
            if equals:
                value = inline
            elif index + 1 < len(args):
                index += 1
                value = args[index]
            else:
                raise errors.image_usage(f"{name} needs a value.")
            if not value:
                raise errors.image_usage(f"{name} needs a value.")
            setattr(parsed, _VALUED[name], value)
        elif argument in _FLAGS:
            setattr(parsed, _FLAGS[argument], True)
        elif argument.startswith("--"):
            raise errors.image_usage(f"Unknown option {errors.visible(argument)}.")
        else:
            positional.append(argument)
        index += 1
    if len(positional) != 2:
        raise errors.image_usage(f"Expected BUILD_DIR and IMAGE_REF, got {len(positional)} arguments.")
    parsed.build_dir, parsed.image_ref = positional
    return parsed
