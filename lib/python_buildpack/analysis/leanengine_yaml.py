"""leanengine.yaml: the app's build and run settings, loaded safely and validated.

`parse` is pure: text in, one typed `LeanEngineConfig` out, or a BuildpackError
naming the file, the key path and the line of every wrong value, in file order
(fixing one to be told of the next wastes a deploy each). Unknown keys are kept
as warnings (with a did-you-mean) for the caller to print.
"""

from __future__ import annotations

import difflib
import functools
import math
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, Union

from python_buildpack.reporting import errors

# PyYAML is imported where a file is parsed (30 ms, mostly its Reader's
# regular expressions): an app without leanengine.yaml, and bin/image, do not
# pay for it.
if TYPE_CHECKING:
    import yaml

FILE_NAME = "leanengine.yaml"
# Real files are a few hundred bytes; a bigger one is a mistake or an attack.
_MAX_BYTES = 256 * 1024
KNOWN_RUNTIMES = ("python", "cpp", "dotnet", "go", "java", "nodejs", "php", "static")
FUNCTIONS_MODES = ("strict", "disabled")
STARTUP_TIMEOUT_RANGE = (15, 120)
DEFAULT_STARTUP_TIMEOUT = 30.0


@dataclass(frozen=True)
class Command:
    """A shell command of the install or build step."""

    text: str


@dataclass(frozen=True)
class UseDefault:
    """`{use: default}`: the buildpack's own install (or, for build, nothing)."""


@dataclass(frozen=True)
class Require:
    """`{require: [paths]}`: files that are inputs of the install step."""

    paths: tuple[str, ...]


Step = Union[Command, UseDefault, Require]


@dataclass(frozen=True)
class BadValue:
    """One wrong value: where it is, what it must be, and what it is."""

    path: str
    line: int | None
    required: str
    found: Any


@dataclass(frozen=True)
class LeanEngineConfig:
    runtime: str | None = None
    run: str | None = None
    install: tuple[Step, ...] = (UseDefault(),)
    build: tuple[Step, ...] = ()
    build_root: str | None = None
    expose_environments_on_build: bool = False
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT
    functions_mode: str | None = None
    system_dependencies: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # Where `run` comes from: leanengine.yaml, or a Procfile's web line (app_source.with_procfile).
    run_source: str = FILE_NAME
    other_processes: tuple[tuple[str, str], ...] = ()  # the Procfile's other process types

    @property
    def required_files(self) -> tuple[str, ...]:
        return tuple(path for step in self.install if isinstance(step, Require) for path in step.paths)

    @property
    def runs_default_install(self) -> bool:
        return any(isinstance(step, UseDefault) for step in self.install)


def read_text(app_dir: Path) -> str | None:
    path = app_dir / FILE_NAME
    if not path.exists() and not path.is_symlink():
        return None
    if path.is_symlink() or not path.is_file():
        raise errors.file_not_regular(FILE_NAME)
    with open(path, "rb") as handle:
        data = handle.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES:
        raise errors.yaml_unreadable(f"The file is larger than {_MAX_BYTES // 1024} KiB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.yaml_unreadable(f"The file is not UTF-8 text (byte {exc.start}).") from exc


def load(app_dir: Path) -> LeanEngineConfig:
    text = read_text(app_dir)
    return LeanEngineConfig() if text is None else parse(text)


# --- parsing ------------------------------------------------------------------


def parse(text: str) -> LeanEngineConfig:
    """Parse the file's text into a validated configuration; pure."""
    node, document = _load_yaml(text)
    if document is None:
        return LeanEngineConfig()
    lines = _key_lines(node)
    if not isinstance(document, dict):
        raise errors.yaml_bad_values([BadValue("(top level)", 1, "a mapping of keys to values", document)])
    values: dict[str, Any] = {}
    warnings = []
    problems: list[BadValue] = []
    for key, value in document.items():
        name = str(key)
        if name not in _KEYS:
            warnings.append(_unknown_key_warning(name, lines.get(name)))
            continue
        attribute, validate = _KEYS[name]
        if value is None:
            continue
        try:
            values[attribute] = validate(value, name, lines)
        except _Invalid as invalid:
            problems += invalid.problems
    if problems:
        # Keys come in file order already; merge keys (`<<`) and aliases may not.
        # The unknown keys go with them: a mistyped key is often why a value is missing.
        raise errors.yaml_bad_values(sorted(problems, key=lambda p: p.line or math.inf), warnings)
    return LeanEngineConfig(**values, warnings=tuple(warnings))


def _load_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    import yaml  # noqa: PLC0415 -- on first use: see the note at the imports

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise errors.yaml_syntax(line, exc.problem or str(exc)) from exc
    except (yaml.YAMLError, RecursionError) as exc:
        raise errors.yaml_syntax(None, str(exc) or type(exc).__name__) from exc
    return node, document


def _unknown_key_warning(name: str, line: int | None) -> str:
    where = f"{FILE_NAME} line {line}" if line else FILE_NAME
    close = difflib.get_close_matches(name, list(_KEYS), n=1, cutoff=0.6)
    if not close:
        close = [known for known in _KEYS if known.lower() == name.lower()]
    suggestion = f' Did you mean "{close[0]}"?' if close else ""
    return f'{where}: unknown key "{name}" is ignored.{suggestion}'


def _key_lines(node: yaml.Node | None) -> dict[str, int]:
    """Line numbers of key paths (`install[1].require[0]`), aliases visited once."""
    import yaml  # noqa: PLC0415 -- on first use: see the note at the imports

    lines: dict[str, int] = {}
    seen: set[int] = set()

    def walk(current: yaml.Node, path: str) -> None:
        if id(current) in seen or len(lines) > 10_000:
            return
        seen.add(id(current))
        if path:
            lines.setdefault(path, current.start_mark.line + 1)
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                child = f"{path}.{key.value}" if path else str(key.value)
                lines.setdefault(child, key.start_mark.line + 1)
                walk(value, child)
        elif isinstance(current, yaml.SequenceNode):
            for index, item in enumerate(current.value):
                walk(item, f"{path}[{index}]")

    if node is not None:
        walk(node, "")
    return lines


# --- validators, one per key ------------------------------------------------------

Lines = dict[str, int]
T = TypeVar("T")


class _Invalid(Exception):
    """Raised by the validators; parse() gathers them into one BuildpackError."""

    def __init__(self, problems: list[BadValue]) -> None:
        super().__init__(problems)
        self.problems = problems


def _bad(path: str, lines: Lines, required: str, found: Any) -> _Invalid:
    return _Invalid([BadValue(path, lines.get(path), required, found)])


def _string(value: Any, path: str, lines: Lines) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, lines, "a non-empty string", value)
    return value.strip()


def _runtime(value: Any, path: str, lines: Lines) -> str:
    runtime = _string(value, path, lines)
    if runtime not in KNOWN_RUNTIMES:
        raise _bad(path, lines, f"one of {', '.join(KNOWN_RUNTIMES)}", value)
    return runtime


def _boolean(value: Any, path: str, lines: Lines) -> bool:
    if not isinstance(value, bool):
        raise _bad(path, lines, "true or false", value)
    return value


def _startup_timeout(value: Any, path: str, lines: Lines) -> float:
    low, high = STARTUP_TIMEOUT_RANGE
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not is_number or not low <= value <= high:
        raise _bad(path, lines, f"a number from {low} to {high}", value)
    return float(value)


def _functions_mode(value: Any, path: str, lines: Lines) -> str:
    if value not in FUNCTIONS_MODES:
        raise _bad(path, lines, '"strict" or "disabled"', value)
    return str(value)


def _build_root(value: Any, path: str, lines: Lines) -> str:
    root = _string(value, path, lines)
    normal = posixpath.normpath(root)
    if root.startswith("/") or normal == ".." or normal.startswith("../") or "\0" in root:
        raise _bad(path, lines, "a subdirectory of the app", value)
    return normal


def _each(items: list[Any], path: str, lines: Lines, validate: Callable[[Any, str, Lines], T]
          ) -> tuple[T, ...]:
    """Validate every item of a list, gathering the problems of all of them."""
    results: list[T] = []
    problems: list[BadValue] = []
    for index, item in enumerate(items):
        try:
            results.append(validate(item, f"{path}[{index}]", lines))
        except _Invalid as invalid:
            problems += invalid.problems
    if problems:
        raise _Invalid(problems)
    return tuple(results)


def _string_list(value: Any, path: str, lines: Lines) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _bad(path, lines, "a list of strings", value)
    return _each(value, path, lines, _string)


def _steps(allow_require: bool) -> Callable[[Any, str, Lines], tuple[Step, ...]]:
    def validate(value: Any, path: str, lines: Lines) -> tuple[Step, ...]:
        if isinstance(value, str):
            return (Command(_string(value, path, lines)),)
        if not isinstance(value, list):
            raise _bad(path, lines, _STEPS_REQUIRED[allow_require], value)
        return _each(value, path, lines, functools.partial(_step, allow_require=allow_require))

    return validate


def _required_path(value: Any, path: str, lines: Lines) -> str:
    _build_root(value, path, lines)  # the same rule: a path inside the app
    return _string(value, path, lines)


_STEPS_REQUIRED = {
    True: "a command, or a list of commands, {use: default} and {require: [files]}",
    False: "a command, or a list of commands and {use: default}",
}


def _step(item: Any, path: str, lines: Lines, *, allow_require: bool) -> Step:
    if isinstance(item, str):
        return Command(_string(item, path, lines))
    if isinstance(item, dict) and list(item) == ["use"]:
        if item["use"] != "default":
            raise _bad(f"{path}.use", lines, '"default"', item["use"])
        return UseDefault()
    if allow_require and isinstance(item, dict) and list(item) == ["require"]:
        required = item["require"]
        if not isinstance(required, list):
            raise _bad(f"{path}.require", lines, "a list of strings", required)
        return Require(_each(required, f"{path}.require", lines, _required_path))
    raise _bad(path, lines, _STEPS_REQUIRED[allow_require], item)


_KEYS: dict[str, tuple[str, Callable[[Any, str, Lines], Any]]] = {
    "runtime": ("runtime", _runtime),
    "run": ("run", _string),
    "install": ("install", _steps(allow_require=True)),
    "build": ("build", _steps(allow_require=False)),
    "buildRoot": ("build_root", _build_root),
    "exposeEnvironmentsOnBuild": ("expose_environments_on_build", _boolean),
    "startupTimeout": ("startup_timeout", _startup_timeout),
    "functionsMode": ("functions_mode", _functions_mode),
    "systemDependencies": ("system_dependencies", _string_list),
}
