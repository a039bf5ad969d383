"""Known-bad requirement combinations, named before pip spends minutes failing on them.

Pure: requirement lines and a Python version in, warnings (title, detail) out.
"""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

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


def check_requirements(lines: list[str], python: str) -> list[Warning_]:
    requirements = _parse(lines)
    warnings: list[Warning_] = []
    version = Version(python)
    if "leancloud" in requirements and (version.major, version.minor) >= (3, 12):
        warnings.append((
            f"leancloud does not install on Python {version.major}.{version.minor}",
            "Every leancloud release needs gevent>=22.10.2,<23, which has no wheels for Python"
            " 3.12+ and does not build there. Put `3.11` in .python-version.",
        ))
    if "leancloud-sdk" in requirements:
        warnings.append((
            "leancloud-sdk is the old, unmaintained LeanCloud SDK",
            "Replace `leancloud-sdk` with `leancloud` in requirements.txt.",
        ))
    flask = requirements.get("flask")
    if "leancloud" in requirements and flask is not None and not _caps_below(flask, "2"):
        warnings.append((
            "Flask is not pinned below 2 next to leancloud",
            "leancloud pins Werkzeug<2 and markupsafe<=2.0.1; an open Flask makes pip backtrack into"
            " old releases whose source builds fail. Use `Flask>=1.1,<2` (with `Jinja2<3.1`,"
            " `itsdangerous<2.1`).",
        ))
    return warnings


def _caps_below(requirement: Requirement, bound: str) -> bool:
    """Whether every version the specifier allows is below `bound` (a major version)."""
    limit = Version(bound)
    for spec in requirement.specifier:
        version = Version(spec.version.rstrip(".*"))
        capped = {
            "<": version <= limit,
            "<=": version < limit,
            "==": version < limit,
            "~=": version.major < limit.major,  # ~=1.1 allows 1.x only
        }.get(spec.operator, False)
        if capped:
            return True
    return False
