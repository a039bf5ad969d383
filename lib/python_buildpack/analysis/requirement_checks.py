"""Known-bad requirement combinations, named before pip spends minutes failing on them
(packages that cannot install on the chosen Python: incompatible_packages).

Pure: requirement lines in, warnings (title, detail) out.
"""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from python_buildpack.analysis.incompatible_packages import only_below

Warning_ = tuple[str, str]


def _parse(lines: list[str]) -> dict[str, Requirement]:
    parsed: dict[str, Requirement] = {}
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        parsed[canonicalize_name(requirement.name)] = requirement
    return parsed


def check_requirements(lines: list[str]) -> list[Warning_]:
    requirements = _parse(lines)
    warnings: list[Warning_] = []
    if "leancloud-sdk" in requirements:
        warnings.append((
            "leancloud-sdk is the old, unmaintained LeanCloud SDK",
            "Replace `leancloud-sdk` with `leancloud` in requirements.txt.",
        ))
    flask = requirements.get("flask")
    if "leancloud" in requirements and flask is not None and not only_below(flask.specifier, Version("2")):
        warnings.append((
            "Flask is not pinned below 2 next to leancloud",
            "leancloud pins Werkzeug<2 and markupsafe<=2.0.1; an open Flask makes pip backtrack into"
            " old releases whose source builds fail. Use `Flask>=1.1,<2` (with `Jinja2<3.1`,"
            " `itsdangerous<2.1`).",
        ))
    return warnings
