"""`-r`/`-c` includes as pip reads them; includes out of the app are refused
(found by the stress suite: `-r /etc/shadow` made pip quote the file in the log)."""

from __future__ import annotations

from pathlib import Path

import pytest
from python_buildpack.analysis.requirement_includes import check_stay_inside, include_target, logical_lines
from python_buildpack.reporting.errors import BuildpackError


@pytest.mark.parametrize(
    ("line", "target"),
    [
        ("-r base.txt", "base.txt"),
        ("-rbase.txt", "base.txt"),
        ("-c=pins.txt", "pins.txt"),
        ("--requirement=/etc/shadow", "/etc/shadow"),
        ("--requirem /etc/shadow", "/etc/shadow"),
        ("--constraint ../x", "../x"),
        ("--cons ../x", "../x"),
        ("--index-url https://x", None),
        ("--require-hashes", None),
        ("Flask>=2", None),
        ("-e .", None),
    ],
)
def test_include_target(line: str, target: str | None) -> None:
    assert include_target(line) == target


def test_logical_lines_join_continuations_and_drop_comments() -> None:
    assert list(logical_lines("-r \\\n/etc/shadow\n# c\nFlask  # web\n\nx#y\n")) == \
        ["-r /etc/shadow", "Flask", "x#y"]


@pytest.mark.parametrize(
    "content",
    ["-r /etc/shadow\n", "-r ../outside.txt\n", "-c \\\n/etc/passwd\n", "--requirement=${HOME}/r.txt\n",
     "-r https://example.com/r.txt\n", "-r sub/inner.txt\n"],
)
def test_includes_out_of_the_app_are_refused(tmp_path: Path, content: str) -> None:
    app = tmp_path / "app"
    (app / "sub").mkdir(parents=True)
    (app / "sub" / "inner.txt").write_text("-r ../../outside.txt\n")  # nested: out too
    (app / "requirements.txt").write_text(content)
    files = [app / "requirements.txt", app / "sub" / "inner.txt"]
    with pytest.raises(BuildpackError) as caught:
        check_stay_inside(app, files)
    assert caught.value.code == "app::unsafe-file"


def test_includes_inside_the_app_are_fine(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("Flask\n")
    (tmp_path / "requirements.txt").write_text("-r base.txt\n-c ./pins/../base.txt\n")
    check_stay_inside(tmp_path, [tmp_path / "requirements.txt", tmp_path / "base.txt"])
