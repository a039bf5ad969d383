# Written by the LeanEngine Python buildpack, run at build time by the app's
# own Python: which installed distributions no requirement needs any more.
# Reads each distribution's metadata, walks Requires-Dist from the roots
# (markers and extras evaluated with pip's vendored `packaging`), prints the
# unreachable names as JSON. Python 2 and 3 compatible.
import email.parser
import glob
import json
import os
import re
import sys
import sysconfig

from pip._vendor.packaging.markers import UndefinedEnvironmentName
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement

ALWAYS_KEPT = {"pip"}


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_distributions(site_packages):
    distributions = {}
    for dist_info in glob.glob(os.path.join(site_packages, "*.dist-info")):
        with open(os.path.join(dist_info, "METADATA"), "rb") as handle:
            message = email.parser.Parser().parsestr(handle.read().decode("utf-8", "replace"))
        distributions[canonical(message["Name"])] = message.get_all("Requires-Dist") or []
    for egg_info in glob.glob(os.path.join(site_packages, "*.egg-info")):
        name = canonical(os.path.basename(egg_info).split("-")[0])
        distributions.setdefault(name, legacy_requires(egg_info))
    return distributions


def legacy_requires(egg_info):
    path = os.path.join(egg_info, "requires.txt")
    if not os.path.isfile(path):
        return []
    requires, section = [], ""
    for line in open(path).read().splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif line:
            extra, _, marker = section.partition(":")
            clauses = [c for c in (marker, 'extra == "%s"' % extra if extra else "") if c]
            requires.append(line + ("; " + " and ".join(clauses) if clauses else ""))
    return requires


def applies(requirement, extras):
    if requirement.marker is None:
        return True
    for extra in list(extras) or [""]:
        try:
            if requirement.marker.evaluate({"extra": extra}):
                return True
        except UndefinedEnvironmentName:
            return True
    return False


def reachable(roots, distributions):
    seen = {}
    pending = [(Requirement(root), frozenset()) for root in roots]
    while pending:
        requirement, parent_extras = pending.pop()
        if not applies(requirement, parent_extras):
            continue
        name = canonical(requirement.name)
        extras = frozenset(requirement.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, frozenset()) | extras
        for text in distributions.get(name, []):
            try:
                pending.append((Requirement(text), seen[name]))
            except InvalidRequirement:
                continue
    return set(seen)


def main():
    roots = json.loads(sys.argv[1])
    distributions = installed_distributions(sysconfig.get_paths()["purelib"])
    keep = reachable(roots, distributions) | ALWAYS_KEPT
    print(json.dumps(sorted(set(distributions) - keep)))


main()
