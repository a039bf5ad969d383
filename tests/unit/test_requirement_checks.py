from __future__ import annotations

import pytest
from python_buildpack.analysis.requirement_checks import check_requirements


@pytest.mark.parametrize(
    ("lines", "titles"),
    [
        (["leancloud>=2.9.1,<4", "Flask>=1.1,<2"], []),
        (["leancloud", "Flask"], ["Flask is not pinned below 2 next to leancloud"]),
        (["leancloud", "Flask>=1.1"], ["Flask is not pinned below 2 next to leancloud"]),
        (["leancloud", "Flask==1.1.4"], []),
        (["leancloud", "Flask~=1.1"], []),
        (["leancloud", "Flask==1.*"], []),
        (["leancloud-sdk"], ["leancloud-sdk is the old, unmaintained LeanCloud SDK"]),
        (["LeanCloud_SDK==1.0"], ["leancloud-sdk is the old, unmaintained LeanCloud SDK"]),
        (["Flask"], []),
        (["not a requirement ("], []),
    ],
)
def test_known_problems(lines: list[str], titles: list[str]) -> None:
    assert [title for title, _ in check_requirements(lines)] == titles
