from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from python_buildpack.analysis import leanengine_yaml
from python_buildpack.analysis.leanengine_yaml import Command, LeanEngineConfig, Require, UseDefault
from python_buildpack.reporting.errors import BuildpackError

C = LeanEngineConfig


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", C()),
        ("# comment only\n", C()),
        ("---\n", C()),
        ("runtime: python\n", C(runtime="python")),
        ("runtime: nodejs\n", C(runtime="nodejs")),
        ("runtime:\n", C()),
        ("run: python app.py\n", C(run="python app.py")),
        ("run: '  gunicorn app:app  '\n", C(run="gunicorn app:app")),
        ("run: >-\n  python\n  app.py\n", C(run="python app.py")),
        ("install: pip install -r requirements.txt\n",
         C(install=(Command("pip install -r requirements.txt"),))),
        ("install:\n  - {use: default}\n  - python -m nltk.downloader punkt\n",
         C(install=(UseDefault(), Command("python -m nltk.downloader punkt")))),
        ("install:\n  - require: [setup.py, src/pkg]\n  - use: default\n",
         C(install=(Require(("setup.py", "src/pkg")), UseDefault()))),
        ("install: []\n", C(install=())),
        ("build: python manage.py collectstatic --noinput\n",
         C(build=(Command("python manage.py collectstatic --noinput"),))),
        ("build:\n  - use: default\n  - npm run build\n", C(build=(UseDefault(), Command("npm run build")))),
        ("buildRoot: backend\n", C(build_root="backend")),
        ("buildRoot: ./services/api/\n", C(build_root="services/api")),
        ("buildRoot: .\n", C(build_root=".")),
        ("exposeEnvironmentsOnBuild: true\n", C(expose_environments_on_build=True)),
        ("exposeEnvironmentsOnBuild: false\n", C()),
        ("startupTimeout: 15\n", C(startup_timeout=15)),
        ("startupTimeout: 120\n", C(startup_timeout=120)),
        ("startupTimeout: 60.5\n", C(startup_timeout=60.5)),
        ("functionsMode: strict\n", C(functions_mode="strict")),
        ("functionsMode: disabled\n", C(functions_mode="disabled")),
        ("systemDependencies: [ffmpeg, fonts-wqy]\n", C(system_dependencies=("ffmpeg", "fonts-wqy"))),
        ("unknownKey: 1\nrun: python a.py\n", C(run="python a.py")),
        ("\ufeffrun: python a.py\n", C(run="python a.py")),
    ],
)
def test_parse(text: str, expected: LeanEngineConfig) -> None:
    assert leanengine_yaml.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "code", "phrase"),
    [
        ("run: [python, app.py]\n", "bad-value", 'line 1: "run" must be a non-empty string, got a list of 2 items'),
        ("runtime: python\nrun: 3\n", "bad-value", 'line 2: "run" must be a non-empty string, got 3'),
        ("run: ''\n", "bad-value", "non-empty"),
        ("- a\n- b\n", "bad-value", "a mapping"),
        ("just text\n", "bad-value", "a mapping"),
        ("runtime: ruby\n", "bad-value", 'line 1: "runtime" must be one of python'),
        ("runtime: Python\n", "bad-value", '"runtime"'),
        ("run: python a.py\n\nstartupTimeout: ten\n", "bad-value",
         'leanengine.yaml line 3: "startupTimeout" must be a number from 15 to 120, got "ten"'),
        ("startupTimeout: 10\n", "bad-value", "from 15 to 120, got 10"),
        ("startupTimeout: 121\n", "bad-value", "got 121"),
        ("startupTimeout: true\n", "bad-value", "got true"),
        ("startupTimeout: .nan\n", "bad-value", "startupTimeout"),
        ("functionsMode: loose\n", "bad-value", '"strict" or "disabled", got "loose"'),
        ("exposeEnvironmentsOnBuild: yes please\n", "bad-value", "true or false"),
        ("exposeEnvironmentsOnBuild: 'true'\n", "bad-value", "true or false"),
        ("buildRoot: ../outside\n", "bad-value", "a subdirectory of the app"),
        ("buildRoot: /etc\n", "bad-value", "a subdirectory"),
        ("buildRoot: a/../../b\n", "bad-value", "a subdirectory"),
        ("install: {use: default}\n", "bad-value", '"install" must be a command, or a list'),
        ("install:\n  - use: custom\n", "bad-value", '"install[0].use" must be "default"'),
        ("install:\n  - npm ci\n  - 42\n", "bad-value", 'line 3: "install[1]"'),
        ("install:\n  - require: setup.py\n", "bad-value", '"install[0].require" must be a list'),
        ("install:\n  - require: [../secret]\n", "bad-value", '"install[0].require[0]"'),
        ("build:\n  - require: [a]\n", "bad-value", '"build[0]" must be a command, or a list of commands'),
        ("systemDependencies: ffmpeg\n", "bad-value", "a list of strings"),
        ("run: 'unterminated\n", "syntax", "leanengine.yaml"),
        ("a: b: c\n", "syntax", "line 1"),
        ("run: python\n  bad: indent\n", "syntax", "line 2"),
        ("key: [unclosed\n", "syntax", "leanengine.yaml"),
        ("run: *undefined\n", "syntax", "undefined alias"),
        ("run: !!python/object:os.system echo\n", "syntax", "leanengine.yaml"),
    ],
)
def test_parse_refuses(text: str, code: str, phrase: str) -> None:
    with pytest.raises(BuildpackError) as caught:
        leanengine_yaml.parse(text)
    assert caught.value.code == f"leanengine-yaml::{code}"
    assert phrase in caught.value.detail


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("startupTimeout: forever\nrun: 3\n", [
            'leanengine.yaml line 1: "startupTimeout" must be a number from 15 to 120, got "forever"',
            'leanengine.yaml line 2: "run" must be a non-empty string, got 3']),
        ("runtime: python\nfunctionsmode: strict\nfunctionsMode: loose\nbuildRoot: /etc\n", [
            'leanengine.yaml line 3: "functionsMode" must be "strict" or "disabled", got "loose"',
            'leanengine.yaml line 4: "buildRoot" must be a subdirectory of the app, got "/etc"',
            # unknown keys stay warnings; they come along, after the wrong values
            'leanengine.yaml line 2: unknown key "functionsmode" is ignored. Did you mean "functionsMode"?']),
        ("install:\n  - npm ci\n  - 42\n  - use: custom\n  - require: [../a, ok, '']\n"
         "systemDependencies: [ffmpeg, 3, [x]]\nexposeEnvironmentsOnBuild: maybe\n", [
            'leanengine.yaml line 3: "install[1]" must be a command',
            'leanengine.yaml line 4: "install[2].use" must be "default", got "custom"',
            'leanengine.yaml line 5: "install[3].require[0]" must be a subdirectory of the app, got "../a"',
            'leanengine.yaml line 5: "install[3].require[2]" must be a non-empty string, got ""',
            'leanengine.yaml line 6: "systemDependencies[1]" must be a non-empty string, got 3',
            'leanengine.yaml line 6: "systemDependencies[2]" must be a non-empty string, got a list of 1 item',
            'leanengine.yaml line 7: "exposeEnvironmentsOnBuild" must be true or false, got "maybe"']),
    ],
)
def test_every_wrong_value_is_reported_at_once_in_file_order(text: str, problems: list[str]) -> None:
    with pytest.raises(BuildpackError) as caught:
        leanengine_yaml.parse(text)
    assert caught.value.code == "leanengine-yaml::bad-value"
    assert caught.value.title == f"leanengine.yaml has {sum('unknown key' not in p for p in problems)} wrong values"
    lines = caught.value.detail.splitlines()
    assert len(lines) == len(problems)
    for line, expected in zip(lines, problems):
        assert line.startswith(expected), (line, expected)


def test_a_single_wrong_value_keeps_its_own_title() -> None:
    with pytest.raises(BuildpackError) as caught:
        leanengine_yaml.parse("run: python a.py\nstartupTimeout: 5\n")
    assert caught.value.title == 'leanengine.yaml: "startupTimeout" has a wrong value'
    assert caught.value.hint == 'Correct "startupTimeout" in leanengine.yaml.'


def test_a_file_of_many_wrong_values_lists_the_first_twenty_and_counts_the_rest() -> None:
    text = "systemDependencies:\n" + "".join(f"  - {index}\n" for index in range(25))
    with pytest.raises(BuildpackError) as caught:
        leanengine_yaml.parse(text)
    lines = caught.value.detail.splitlines()
    assert len(lines) == 21
    assert lines[0].startswith('leanengine.yaml line 2: "systemDependencies[0]"')
    assert lines[-1] == "... and 5 more."
    assert caught.value.title == "leanengine.yaml has 25 wrong values"


@pytest.mark.parametrize(
    ("text", "warning"),
    [
        ("buildroot: backend\n", 'line 1: unknown key "buildroot" is ignored. Did you mean "buildRoot"?'),
        ("run: a\nstartuptimeout: 30\n", 'line 2: unknown key "startuptimeout" is ignored. Did you mean "startupTimeout"?'),
        ("instal: npm ci\n", 'Did you mean "install"?'),
        ("systemDependency: [ffmpeg]\n", 'Did you mean "systemDependencies"?'),
        ("hello: world\n", 'unknown key "hello" is ignored.'),
    ],
)
def test_unknown_keys_warn_with_did_you_mean(text: str, warning: str) -> None:
    config = leanengine_yaml.parse(text)
    assert len(config.warnings) == 1
    assert warning in config.warnings[0]


def test_alias_bomb_is_not_expanded() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    ) + "run: *u\n"
    with pytest.raises(BuildpackError) as caught:
        leanengine_yaml.parse(bomb)
    assert "a list of 4 items" in caught.value.detail


def test_required_files_and_default_install() -> None:
    config = leanengine_yaml.parse("install:\n  - require: [a.txt]\n  - pip install .\n  - require: [b]\n")
    assert config.required_files == ("a.txt", "b")
    assert not config.runs_default_install
    assert C().runs_default_install


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(["runtime", "run", "install", "build", "buildRoot", "exposeEnvironmentsOnBuild",
                        "startupTimeout", "functionsMode", "systemDependencies", "other"])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, yaml_values, max_size=6))
def test_random_documents_give_a_config_or_a_user_error(document: dict[str, object]) -> None:
    text = yaml.safe_dump(document)
    try:
        assert isinstance(leanengine_yaml.parse(text), LeanEngineConfig)
    except BuildpackError as err:
        assert err.code.startswith("leanengine-yaml::")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_random_text_gives_a_config_or_a_user_error(text: str) -> None:
    try:
        assert isinstance(leanengine_yaml.parse(text), LeanEngineConfig)
    except BuildpackError as err:
        assert err.code.startswith("leanengine-yaml::")
