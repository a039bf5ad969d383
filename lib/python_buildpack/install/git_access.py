"""What git needs to fetch the app's private git requirements, and nothing of the
build host's: the environment pip, uv and `git ls-remote` run git with.

From the app's ENV_DIR:
- `GIT_CREDENTIALS`: lines `https://USER:TOKEN@host` (git's credential-store
  format), written to a private file (support/private_files) that git's
  `store` credential helper reads;
- `SSH_PRIVATE_KEY` (the key itself, or its base64) and `SSH_KNOWN_HOSTS`
  (`ssh-keyscan` lines): a private key file and a known-hosts file for
  `GIT_SSH_COMMAND`, which always checks host keys strictly.
git never reads the host's configuration (`GIT_CONFIG_NOSYSTEM`,
`GIT_CONFIG_GLOBAL=/dev/null`), its SSH agent, its `~/.ssh/config`, or asks
for anything on a terminal. Every credential is registered as a secret in all
the forms a tool may print it.
"""

from __future__ import annotations

import base64
import binascii
import os
import shlex
import urllib.parse
from collections.abc import Mapping, Sequence

from python_buildpack.analysis.vcs_requirements import VcsRequirement
from python_buildpack.install import index_credentials
from python_buildpack.reporting import errors, output
from python_buildpack.support import commands, private_files

CREDENTIALS_SETTING = "GIT_CREDENTIALS"
KEY_SETTING = "SSH_PRIVATE_KEY"
KNOWN_HOSTS_SETTING = "SSH_KNOWN_HOSTS"
PRIVATE_FILES = ("git-credentials", "ssh-key", "known-hosts")
# A transfer slower than 1 kB/s for a minute is a dead connection, not a slow one.
_STALLED = {"GIT_HTTP_LOW_SPEED_LIMIT": "1000", "GIT_HTTP_LOW_SPEED_TIME": "60"}


def git_environment(app_env: Mapping[str, str], requirements: Sequence[VcsRequirement]) -> dict[str, str]:
    """The variables that make git use the app's credentials and only those."""
    env = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
           **_STALLED}
    store = credential_store(app_env.get(CREDENTIALS_SETTING, ""))
    if store is not None:
        env.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "credential.helper",
                    "GIT_CONFIG_VALUE_0": f"store --file={shlex.quote(store)}"})
    env["GIT_SSH_COMMAND"] = ssh_command(app_env, [item for item in requirements if item.uses_ssh])
    return env


def credential_store(content: str) -> str | None:
    """The app's GIT_CREDENTIALS as a credential-store file (hosts only: git matches
    a stored path only when asked to); its path, or None without any."""
    lines = [line.strip() for line in content.replace("\r", "").splitlines()]
    entries = []
    for number, line in enumerate(lines, start=1):
        if not line or line.startswith("#"):
            continue
        parts = urllib.parse.urlsplit(line)
        if parts.scheme not in ("https", "http") or not parts.hostname or not parts.username \
                or parts.password is None:
            raise errors.git_credentials_invalid(number)
        index_credentials.register_credentials(parts.username, parts.password)
        entries.append(f"{parts.scheme}://{parts.netloc}\n")
    if not entries:
        return None
    return str(private_files.write("git-credentials", "".join(entries)))


def ssh_command(app_env: Mapping[str, str], ssh_requirements: Sequence[VcsRequirement]) -> str:
    """ssh with the app's deploy key and known hosts, checking every host key."""
    known_hosts = app_env.get(KNOWN_HOSTS_SETTING, "").strip()
    if ssh_requirements and not known_hosts:
        raise errors.git_no_known_hosts([item.shown for item in ssh_requirements])
    hosts_file = str(private_files.write("known-hosts", known_hosts + "\n")) if known_hosts else os.devnull
    argv = ["ssh", "-F", os.devnull, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", f"UserKnownHostsFile={hosts_file}", "-o", f"GlobalKnownHostsFile={os.devnull}",
            "-o", "IdentityAgent=none", "-o", "ConnectTimeout=30"]
    key = app_env.get(KEY_SETTING, "")
    if key.strip():
        argv += ["-o", "IdentitiesOnly=yes", "-i", deploy_key_file(key)]
    return shlex.join(argv)


def deploy_key_file(value: str) -> str:
    """SSH_PRIVATE_KEY written privately as ssh reads it (LF line ends, a final newline)."""
    key = value.replace("\r", "").strip()
    if "-----BEGIN" not in key:
        try:  # CI systems often store a key base64-encoded, on one line
            key = base64.b64decode(key, validate=True).decode().replace("\r", "").strip()
        except (binascii.Error, UnicodeDecodeError):
            raise errors.ssh_key_invalid("it is neither a private key (-----BEGIN ...) nor one"
                                         " in base64") from None
    output.register_secrets([key, base64.b64encode((key + "\n").encode()).decode(),
                             base64.b64encode(key.encode()).decode()])
    path = private_files.write("ssh-key", key + "\n")
    _check_key(str(path))
    return str(path)


def _check_key(path: str) -> None:
    """ssh-keygen reads the key as ssh would, without a passphrase (none can be typed)."""
    try:
        commands.capture(["ssh-keygen", "-y", "-P", "", "-f", path])
    except commands.CommandFailed as failure:
        said = " ".join(failure.tail).lower()
        raise errors.ssh_key_invalid("it has a passphrase, which a build cannot type" if "passphrase" in said
                                     else "ssh-keygen cannot read it as a private key") from None


def remove_files() -> None:
    """The credential files live only as long as the install step."""
    for name in PRIVATE_FILES:
        private_files.remove(name)
