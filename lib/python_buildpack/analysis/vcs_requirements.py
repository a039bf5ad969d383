"""git requirements in the app's requirement files, read as pip reads them:
`name @ git+https://host/org/repo.git@v1`, `git+ssh://git@host/org/repo.git@main#egg=name`,
`-e git+...`. Pure parsing: which repository, which ref (branch, tag, commit
or none), which project, the `${VAR}` references pip expands and which of
the app's variables the installer gets for them.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from python_buildpack.reporting import errors

_GIT_URL = re.compile(r"(?:^|[\s@])git\+(?P<url>[a-z][a-z0-9+.-]*://[^\s;]+)")
_NAMED = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*@")
_EGG = re.compile(r"(?:^|&)egg=(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)")
_EDITABLE = re.compile(r"^\s*(?:-e|--editable)(?:\s+|=)")
# pip's rule (and uv's): only `${NAME}`, upper case, digits and underscores.
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)\}")
_FULL_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True)
class VcsRequirement:
    url: str  # the repository, as written (may hold `${VAR}` and credentials)
    ref: str | None  # after the last `@` of the path: branch, tag or commit; None: the default branch
    name: str | None  # the project, when the line names it

    @property
    def pins_a_commit(self) -> bool:
        """A full commit hash never moves: nothing to resolve."""
        return self.ref is not None and _FULL_COMMIT.fullmatch(self.ref) is not None

    @property
    def uses_ssh(self) -> bool:
        return urllib.parse.urlsplit(self.url).scheme == "ssh"

    @property
    def host(self) -> str:
        """The host (with its port) the messages name; the scheme for a local `file://` one."""
        parts = urllib.parse.urlsplit(self.url)
        return parts.netloc.rpartition("@")[2] or parts.scheme

    @property
    def shown(self) -> str:
        """How the log and the cache key name it: the repository and ref, credentials left out."""
        parts = urllib.parse.urlsplit(self.url)
        user, _, host = parts.netloc.rpartition("@")
        # `git@` of an SSH URL is the account every host uses, not a secret.
        netloc = f"{user}@{host}" if parts.scheme == "ssh" and user and ":" not in user \
            and not VARIABLE.search(user) else host
        return f"{urllib.parse.urlunsplit(parts._replace(netloc=netloc))}@{self.ref or 'HEAD'}"


def parse_line(line: str) -> VcsRequirement | None:
    """The git requirement of one logical requirement-file line, if it is one."""
    text = _EDITABLE.sub("", line, count=1)
    found = _GIT_URL.search(text)
    if found is None:
        return None
    address, _, fragment = found.group("url").partition("#")
    parts = urllib.parse.urlsplit(address)
    path, ref = parts.path, None
    if "@" in path:
        path, _, ref = path.rpartition("@")
    named = _NAMED.match(text) if found.start() > 0 else None
    egg = _EGG.search(fragment)
    name = named.group("name") if named else egg.group("name") if egg else None
    return VcsRequirement(urllib.parse.urlunsplit(parts._replace(path=path)), ref or None, name)


def find_vcs_requirements(lines: Iterable[str]) -> list[VcsRequirement]:
    """Each git requirement once, in file order."""
    found: list[VcsRequirement] = []
    for line in lines:
        requirement = parse_line(line)
        if requirement is not None and requirement not in found:
            found.append(requirement)
    return found


def referenced_variables(lines: Iterable[str]) -> list[str]:
    """The `${NAME}` variables the lines use, each once, in order."""
    names: list[str] = []
    for line in lines:
        names += [found.group("name") for found in VARIABLE.finditer(line)
                  if found.group("name") not in names]
    return names


def expand(text: str, variables: Mapping[str, str]) -> str:
    """`${NAME}` replaced by its value, as pip does; unknown names stay as written."""
    return VARIABLE.sub(lambda found: variables.get(found.group("name"), found.group(0)), text)


# Variables that configure the tools, or hold the build's own credentials: a
# requirement file's `${NAME}` never gets them, whatever it names.
_NEVER_EXPANDED = ("PIP_", "UV_", "PYTHON", "GIT_CONFIG", "GIT_SSH", "GIT_ASKPASS", "GIT_TERMINAL",
                   "GIT_EXEC", "GIT_DIR", "GIT_WORK_TREE", "GIT_TRACE", "GIT_CURL", "GIT_HTTP", "SSH_",
                   "LD_", "NETRC", "PATH", "HOME", "TMPDIR")


def installer_variables(lines: Iterable[str], app_env: Mapping[str, str]) -> dict[str, str]:
    """The app's variables that its requirement files name as `${NAME}`: pip and uv
    expand them, even without exposeEnvironmentsOnBuild (they reach the installer
    only). A name the app does not set, or one of the tools' own settings, is an error."""
    names = referenced_variables(lines)
    withheld = [name for name in names if name.startswith(_NEVER_EXPANDED)]
    unset = [name for name in names if name not in app_env and name not in withheld]
    if unset or withheld:
        raise errors.requirement_variables_unset(unset, withheld)
    return {name: app_env[name] for name in names}
