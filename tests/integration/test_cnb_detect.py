"""bin/detect as a Cloud Native Buildpack (Buildpack API 0.10), driven as the
spec's detect phase runs it (tests/cnb_lifecycle.py); the classic contract of
the same executable is tests/integration/test_detect.py's."""

from __future__ import annotations

from pathlib import Path

import pytest
from cnb_lifecycle import DETECT_FAIL, DETECT_PASS, detect, host_env
from helpers import copy_fixture, run_bin

pytestmark = pytest.mark.integration


@pytest.fixture
def platform_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "platform"
    (directory / "env").mkdir(parents=True)
    return directory


@pytest.mark.parametrize(("fixture", "metadata"), [
    ("flask-app", {"version": "3.12", "version-source": ".python-version"}),
    ("uv-app", None),
    ("procfile-app", None),
])
def test_a_python_app_passes_and_provides_and_requires_cpython(
    tmp_path: Path, platform_dir: Path, fixture: str, metadata: dict[str, str] | None,
) -> None:
    app = copy_fixture(fixture, tmp_path)
    detected = detect(app, platform_dir, tmp_path, host_env())
    assert detected.returncode == DETECT_PASS, detected.stderr
    assert detected.stderr == ""
    assert detected.plan is not None
    assert detected.plan["provides"] == [{"name": "cpython"}]
    (required,) = detected.plan["requires"]
    assert required["name"] == "cpython"
    if metadata is not None:
        assert required["metadata"] == metadata
    else:
        assert "version-source" in required["metadata"]


def test_the_version_comes_from_the_build_root(tmp_path: Path, platform_dir: Path) -> None:
    app = tmp_path / "app"
    (app / "service").mkdir(parents=True)
    (app / "leanengine.yaml").write_text("buildRoot: service\n")
    (app / "service" / "wsgi.py").write_text("application = None\n")
    (app / "service" / "requirements.txt").write_text("")
    (app / "service" / "runtime.txt").write_text("python-3.11.7\n")
    detected = detect(app, platform_dir, tmp_path, host_env())
    assert detected.returncode == DETECT_PASS, detected.stderr
    assert detected.plan is not None
    assert detected.plan["requires"][0]["metadata"] == {"version": "3.11.7", "version-source": "runtime.txt"}


@pytest.mark.parametrize("files", [
    {"package.json": "{}", "index.js": ""},
    {"leanengine.yaml": "runtime: nodejs\n", "wsgi.py": "", "requirements.txt": ""},
    {},
])
def test_another_app_fails_with_100_and_no_plan(tmp_path: Path, platform_dir: Path,
                                                 files: dict[str, str]) -> None:
    app = tmp_path / "app"
    app.mkdir()
    for name, content in files.items():
        (app / name).write_text(content)
    detected = detect(app, platform_dir, tmp_path, host_env())
    assert (detected.returncode, detected.plan, detected.stdout, detected.stderr) == (DETECT_FAIL, None, "", "")


def test_platform_variables_do_not_change_detection_or_leak(tmp_path: Path, platform_dir: Path) -> None:
    (platform_dir / "env" / "LEANCLOUD_APP_MASTER_KEY").write_text("s3cret-master-key")
    app = copy_fixture("flask-app", tmp_path)
    detected = detect(app, platform_dir, tmp_path, host_env())
    assert detected.returncode == DETECT_PASS
    assert "s3cret" not in detected.stdout + detected.stderr + str(detected.plan)


def test_the_classic_call_is_unchanged_in_a_cnb_environment(tmp_path: Path) -> None:
    # A classic platform that happens to export CNB variables still gets the classic answer.
    app = copy_fixture("flask-app", tmp_path)
    env = {**host_env(), "CNB_BUILD_PLAN_PATH": str(tmp_path / "plan.toml"),
           "CNB_PLATFORM_DIR": str(tmp_path)}
    result = run_bin("detect", app, env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "Python\n", "")
    assert not (tmp_path / "plan.toml").exists()
    other = run_bin("detect", tmp_path / "missing", env=env)
    assert (other.returncode, other.stdout) == (1, "")
