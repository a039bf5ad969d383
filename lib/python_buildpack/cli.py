"""Entry points of bin/*: the only place that turns errors into exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from python_buildpack.reporting import build_report, errors, output
from python_buildpack.support import disk_space

# Each command imports the stages it uses when it runs: bin/detect, bin/release
# and bin/image then start without loading the whole build pipeline (about a
# third of a second of imports: requests, yaml, packaging, ...).


def _existing_dir(path: str) -> Path:
    directory = Path(path)
    if not directory.is_dir():
        raise errors.build_dir_missing(path)
    return directory.resolve()


def _writable_dir(path: str) -> Path:
    """The cache directory, made if need be: a platform gives one it may
    write; by hand, a wrong one must not end in a traceback."""
    directory = Path(path).resolve()
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise errors.cache_dir_unwritable(path, error.strerror or str(error)) from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise errors.cache_dir_unwritable(path, "this user may not write it")
    return directory


def detect(args: list[str]) -> int:
    if not args and os.environ.get("CNB_BUILD_PLAN_PATH"):  # the CNB lifecycle's call
        from python_buildpack.cnb import detect as cnb_detect

        if cnb_detect.is_requested(args, os.environ):
            return cnb_detect.detect(Path.cwd(), os.environ)
    if len(args) != 1:
        raise errors.usage("bin/detect", "bin/detect BUILD_DIR")
    from python_buildpack.analysis import app_source

    if Path(args[0]).is_dir() and app_source.is_python_app(Path(args[0])):
        output.plain("Python")
        return 0
    return 1


def compile_(args: list[str]) -> int:
    if len(args) not in (2, 3):
        raise errors.usage("bin/compile", "bin/compile BUILD_DIR CACHE_DIR [ENV_DIR]")
    build_dir = _existing_dir(args[0])
    cache_dir = _writable_dir(args[1])
    env_dir = Path(args[2]) if len(args) == 3 and Path(args[2]).is_dir() else None
    from python_buildpack.compile import compile_app

    compile_app(build_dir, cache_dir, env_dir)
    return 0


def cnb_build(args: list[str]) -> int:
    from python_buildpack.cnb import build as cnb

    if args or not os.environ.get("CNB_LAYERS_DIR") or not os.environ.get("CNB_PLATFORM_DIR"):
        raise errors.usage("bin/build", "bin/build, run by a CNB lifecycle (CNB_LAYERS_DIR and"
                           " CNB_PLATFORM_DIR set, the app as the working directory)")
    return cnb.build(Path.cwd(), os.environ)


def release(args: list[str]) -> int:
    if len(args) != 1:
        raise errors.usage("bin/release", "bin/release BUILD_DIR")
    build_dir = _existing_dir(args[0])
    # A failed build set up no web command: releasing the default would deploy
    # a version that cannot start.
    failure = build_report.last_failure(build_dir)
    if failure is not None:
        raise errors.release_build_failed(failure)
    from python_buildpack.launch import start_command

    output.plain(start_command.release_document(build_dir).rstrip("\n"))
    return 0


def report(args: list[str]) -> int:
    if len(args) != 1:
        raise errors.usage("bin/report", "bin/report BUILD_DIR")
    output.plain(build_report.as_yaml(_existing_dir(args[0])).rstrip("\n"))
    return 0


def image(args: list[str]) -> int:
    from python_buildpack.image import command as image_command

    return image_command.main(args)


def package(args: list[str]) -> int:
    if len(args) != 2:
        raise errors.usage("bin/package-runtime", "bin/package-runtime PYTHON_PREFIX MIRROR_DIR")
    from python_buildpack.runtime.runtime_packer import package_runtime

    package_runtime(_existing_dir(args[0]), Path(args[1]).resolve())
    return 0


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "detect": detect,
    "compile": compile_,
    "release": release,
    "package-runtime": package,
    "report": report,
    "image": image,
    "cnb-build": cnb_build,
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        output.error(errors.usage("the buildpack",
                                  "bin/{detect,compile,release,report,package-runtime,image}"))
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except errors.BuildpackError as err:
        output.error(err)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the one place unexpected errors are reported
        if disk_space.is_disk_full(exc):  # not a bug: a full disk can strike any write
            output.error(errors.disk_full(disk_space.where(exc)))
        else:
            import traceback  # only when the buildpack itself fails: 20 ms at every start otherwise

            output.internal_error(traceback.format_exc())
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
