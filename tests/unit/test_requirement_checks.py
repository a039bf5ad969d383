from __future__ import annotations

import pytest
from python_buildpack.analysis.requirement_checks import check_requirements


@pytest.mark.parametrize(
    ("lines", "python", "titles"),
    [
        (["leancloud>=2.9.1,<4", "Flask>=1.1,<2"], "3.11.7", []),
        (["leancloud", "Flask<2"], "3.12.1", ["leancloud does not install on Python 3.12"]),
        (["leancloud"], "3.13.0", ["leancloud does not install on Python 3.13"]),
        (["leancloud", "Flask"], "3.11.7", ["Flask is not pinned below 2 next to leancloud"]),
        (["leancloud", "Flask>=1.1"], "3.11.7", ["Flask is not pinned below 2 next to leancloud"]),
        (["leancloud", "Flask==1.1.4"], "3.11.7", []),
        (["leancloud", "Flask~=1.1"], "3.11.7", []),
        (["leancloud-sdk"], "2.7.18", ["leancloud-sdk is the old, unmaintained LeanCloud SDK"]),
        (["LeanCloud_SDK==1.0"], "3.6.15", ["leancloud-sdk is the old, unmaintained LeanCloud SDK"]),
        (["Flask"], "3.12.1", []),
        (["not a requirement ("], "3.12.1", []),
    ],
)
def test_known_problems(lines: list[str], python: str, titles: list[str]) -> None:
    assert [title for title, _ in check_requirements(lines, python)] == titles
