"""Property tests over every parser of user input: whatever the bytes, the answer is
a value or a BuildpackError (a clear message), never another exception.
`make stress` runs 10,000 examples each (HYPOTHESIS_PROFILE=stress)."""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from python_buildpack.analysis import (
    env_dir,
    leanengine_yaml,
    python_version,
    requirement_checks,
    requirement_files,
    version_files,
)
from python_buildpack.reporting.errors import BuildpackError
from python_buildpack.runtime import mirror

from stress.support import Figures

pytestmark = pytest.mark.stress

_tried: dict[str, int] = {}


def tried(parser: str) -> None:
    _tried[parser] = _tried.get(parser, 0) + 1


@pytest.fixture(autouse=True)
def _count_inputs(request: pytest.FixtureRequest, figures: Figures) -> Iterator[None]:
    """One table row per parser: the inputs hypothesis tried, passed if the property held."""
    _tried.clear()
    failed_before = request.session.testsfailed
    yield
    for parser, count in _tried.items():
        row = figures.row(f"fuzz: {parser}")
        row.trials += 1
        row.passed += request.session.testsfailed == failed_before
        row.inputs += count


version_like = st.one_of(
    st.binary(max_size=200),
    st.from_regex(r"\A\s*(python-?|pypy|system|#)?[0-9a-z.\-+ ]{0,20}\s*\Z").map(str.encode),
    st.lists(st.sampled_from(["3", ".", "12", "1", "rc1", "\n", "\r\n", "#", " ", "\ufeff", "\x00"]),
             max_size=12).map(lambda parts: "".join(parts).encode("utf-8")),
)


@given(version_like)
def test_python_version_files(content: bytes) -> None:
    tried(".python-version")
    try:
        token, _others = python_version.parse_version_file(content)
        request = python_version.parse_request(token, ".python-version")
    except BuildpackError as err:
        assert err.code.startswith("python-version::")
        return
    assert request.major >= 0


@given(st.text(min_size=1, max_size=40).filter(lambda name: "/" not in name and "\0" not in name
                                                and name not in (".", "..")),
       version_like)
def test_version_file_names(name: str, content: bytes) -> None:
    """Any file in the upload: the misspelling check answers or refuses with its own code."""
    tried("version file names")
    try:
        (_scratch / name).write_bytes(content)
    except OSError:
        return  # a name this file system refuses (too long in bytes)
    try:
        version_files.check_version_file_names(_scratch)
    except BuildpackError as err:
        assert err.code == "python-version::misspelled-file"
        assert version_files.meant_file(name) in (".python-version", "runtime.txt")
    finally:
        (_scratch / name).unlink()


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=30))
yaml_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(["use", "require", "run", "x"]), inner, max_size=3)), max_leaves=12)
config_keys = st.sampled_from(["runtime", "run", "install", "build", "buildRoot", "startupTimeout",
                               "functionsMode", "exposeEnvironmentsOnBuild", "systemDependencies",
                               "biuld", "Run", "other"])
yaml_texts = st.one_of(
    st.dictionaries(config_keys, yaml_values, max_size=6).map(yaml.safe_dump),
    st.text(max_size=300),
    # Anchors, aliases, tags and deep nesting: the shapes of YAML bombs.
    st.lists(st.sampled_from(["a: &a [x, x]\n", "b: [*a, *a, *a]\n", "run: *a\n", "[" * 50, "{" * 50,
                              "!!python/object:os.system x\n", "install: !!binary aGk=\n",
                              "? [a]\n: b\n", "---\n", "%YAML 1.1\n", "run: |\n  x\n"]),
             max_size=8).map("".join),
)


@given(yaml_texts)
def test_leanengine_yaml(text: str) -> None:
    tried("leanengine.yaml")
    try:
        config = leanengine_yaml.parse(text)
    except BuildpackError as err:
        assert err.code.startswith("leanengine-yaml::")
        return
    assert isinstance(config, leanengine_yaml.LeanEngineConfig)
    assert all(isinstance(step, (leanengine_yaml.Command, leanengine_yaml.UseDefault, leanengine_yaml.Require))
               for step in (*config.install, *config.build))


names = st.one_of(st.text(max_size=40), st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,20}\Z"))


@given(st.lists(st.tuples(names, st.binary(max_size=200)), max_size=8))
def test_env_dir_entries(entries: list[tuple[str, bytes]]) -> None:
    tried("ENV_DIR")
    variables, skipped = env_dir.parse_entries(entries)
    assert set(variables) | set(skipped) == {name for name, _ in entries}
    for name, value in variables.items():
        assert name.isidentifier()
        assert name.isascii()
        assert "\0" not in value


_scratch = Path(tempfile.mkdtemp(prefix="stress-requirements-"))
requirement_text = st.lists(st.one_of(
    st.text(max_size=60),
    st.sampled_from(["Flask>=2,<4", "leancloud", "flask<2", "-r other.txt", "-c /etc/shadow",
                     "--requirement ../../x", "gevent ; python_version<'3'", "./vendor/pkg",
                     "pkg @ https://x/y.whl", "-e .", "a==1 # comment", "\\", "[extra]"]),
), max_size=10).map("\n".join)


@given(requirement_text)
def test_requirement_lines(text: str) -> None:
    tried("requirement lines")
    (_scratch / "requirements.txt").write_text(text, errors="surrogateescape")
    lines = requirement_files.requirement_lines(_scratch)
    names_found = requirement_files.requirement_names(_scratch)
    assert all(not line.startswith("-") for line in lines)
    assert all(name == name.lower() for name in names_found)
    requirement_checks.check_requirements(lines)


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20)),
                           lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                   st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=10)
manifest_entries = st.fixed_dictionaries(
    {}, optional={"version": json_values | st.just("3.12.1"), "url": json_values | st.just("a.tar.gz"),
                  "sha256": json_values, "size": json_values})


@given(st.one_of(json_values, st.fixed_dictionaries({"runtimes": st.lists(manifest_entries, max_size=4)})))
def test_mirror_manifest(document: object) -> None:
    tried("manifest.json")
    try:
        entries = mirror.parse_manifest(document, "http://127.0.0.1/manifest.json")
    except BuildpackError as err:
        assert err.code == "mirror::bad-manifest"
        return
    assert all(entry.url and entry.sha256 and entry.version for entry in entries)


url_parts = st.sampled_from(["..", ".", "%2e%2e", "%2E%2e", "a", "cpython.tar.gz", "", "/", "//", "\\",
                             "file:", "http:", "https://cdn.example", "file:///etc/passwd", "?x=..", "#.."])


@given(st.sampled_from(["http://127.0.0.1:8000/mirror/", "file:///srv/mirror/"]),
       st.one_of(st.lists(url_parts, max_size=6).map("/".join), st.text(max_size=30)))
def test_manifest_urls_never_lead_out_of_the_mirror(base: str, reference: str) -> None:
    tried("manifest archive URL")
    try:
        url = mirror.Mirror(base).url_of(reference)
    except BuildpackError as err:
        assert err.code == "mirror::unsafe-url"
        return
    if base.startswith("file:"):
        assert url.startswith(base)
        assert ".." not in Path(url[len("file://"):]).resolve().parts
    elif not reference.lower().startswith(("http://", "https://")):
        assert url.startswith(base), url
        assert ".." not in urllib.parse.unquote(urllib.parse.urlsplit(url).path).split("/")
