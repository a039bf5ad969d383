"""Moving refs of git requirements, resolved before the cache decision.

A requirement on a branch, a tag or the default branch installs whatever
commit the ref points to at build time: without knowing it, a cached install
would keep the first commit forever. `git ls-remote` (with the build's git
credentials) names the commit of each such ref, and the commits are part of
the install step's key, so a push to the branch reinstalls the package. It
also tells every git failure before pip starts, with its host and cause.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from python_buildpack.analysis.vcs_requirements import VcsRequirement, expand
from python_buildpack.reporting import errors, output
from python_buildpack.support import commands

_SHORT_COMMIT = re.compile(r"[0-9a-f]{7,39}")
# git's lines, by cause (http and ssh transports alike).
_CAUSES = (
    ("host-key-unknown", re.compile(r"Host key verification failed|host key is known|"
                                    r"REMOTE HOST IDENTIFICATION HAS CHANGED")),
    ("auth-refused", re.compile(r"Authentication failed|could not read (?:Username|Password)|"
                                r"Permission denied \(|returned error: 40[13]|Invalid username or password")),
    ("repository-not-found", re.compile(r"repository '[^']*' not found|returned error: 404|"
                                        r"does not appear to be a git repository")),
    ("unreachable", re.compile(r"Could not resolve host|Failed to connect|Connection refused|"
                               r"Connection timed out|Could not resolve hostname|connect to host|"
                               r"Operation timed out|unable to access")),
)


def resolve_refs(requirements: Sequence[VcsRequirement], variables: Mapping[str, str],
                 env: Mapping[str, str]) -> dict[str, str]:
    """{requirement as shown: commit} for every requirement that does not pin a commit."""
    resolved: dict[str, str] = {}
    for requirement in requirements:
        if requirement.pins_a_commit:
            continue
        commit = commit_of(requirement, expand(requirement.url, variables), env)
        if commit is not None:
            output.info(f"git+{requirement.shown} is at commit {commit[:12]} (git ls-remote)")
            resolved[requirement.shown] = commit
    return resolved


def commit_of(requirement: VcsRequirement, url: str, env: Mapping[str, str]) -> str | None:
    """The commit the ref names; None for a short commit hash (it cannot move)."""
    wanted = requirement.ref or "HEAD"
    try:
        listed = commands.capture(["git", "ls-remote", "--", url, wanted], env=env)
    except commands.CommandFailed as failure:
        raise git_failure(requirement, failure.tail) from None
    commit = pick_commit(listed, wanted)
    if commit is None:
        if _SHORT_COMMIT.fullmatch(wanted):
            return None
        raise errors.git_ref_not_found(requirement.shown, wanted, requirement.host)
    return commit


def pick_commit(listed: str, ref: str) -> str | None:
    """The commit of `ref` in ls-remote's lines: an annotated tag's commit (`^{}`)
    first, then a branch, then the tag itself."""
    found: dict[str, str] = {}
    for line in listed.splitlines():
        commit, _, name = line.partition("\t")
        found[name.strip()] = commit.strip()
    names = [f"refs/tags/{ref}^{{}}", f"refs/heads/{ref}", f"refs/tags/{ref}", ref, f"{ref}^{{}}"]
    return next((found[name] for name in names if name in found), None)


def git_failure(requirement: VcsRequirement, lines: Sequence[str]) -> errors.BuildpackError:
    said = "\n".join(lines)
    cause = next((name for name, pattern in _CAUSES if pattern.search(said)), "failed")
    git_lines = [line.strip() for line in lines if line.strip()][-4:]
    return errors.git_failed(cause, requirement.shown, requirement.host, git_lines,
                             ssh=requirement.uses_ssh)
