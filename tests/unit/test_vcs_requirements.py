"""git requirements: parsing (analysis/vcs_requirements), the refs' commits and
git's failures (install/vcs_refs), the credentials git gets (install/git_access)
and the commits in the install key (install/install_inputs)."""

from __future__ import annotations

import base64
import dataclasses
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from python_buildpack.analysis.vcs_requirements import (
    VcsRequirement,
    expand,
    find_vcs_requirements,
    installer_variables,
    parse_line,
    referenced_variables,
)
from python_buildpack.install import git_access, vcs_refs
from python_buildpack.install.install_inputs import InstallInputs, explain_changes
from python_buildpack.reporting import errors, output
from python_buildpack.support import private_files


@pytest.mark.parametrize(("line", "url", "ref", "name"), [
    ("demo @ git+https://host/org/demo.git@v1", "https://host/org/demo.git", "v1", "demo"),
    ("demo[extra] @ git+https://host/org/demo.git", "https://host/org/demo.git", None, "demo"),
    ("git+https://host/org/demo.git@main#egg=demo", "https://host/org/demo.git", "main", "demo"),
    ("-e git+ssh://git@host:2222/org/demo.git@feature/x#egg=demo&subdirectory=pkg",
     "ssh://git@host:2222/org/demo.git", "feature/x", "demo"),
    ("--editable=git+https://host/demo.git", "https://host/demo.git", None, None),
    ("demo @ git+https://${USER_NAME}:${TOKEN}@host/org/demo.git@v2 ; python_version >= '3'",
     "https://${USER_NAME}:${TOKEN}@host/org/demo.git", "v2", "demo"),
    ("demo @ git+http://127.0.0.1:8080/demo.git@" + "a" * 40, "http://127.0.0.1:8080/demo.git", "a" * 40, "demo"),
])
def test_git_requirements_are_read_as_pip_reads_them(line: str, url: str, ref: str | None, name: str | None) -> None:
    assert parse_line(line) == VcsRequirement(url, ref, name)


@pytest.mark.parametrize("line", ["Flask==3.0", "demo @ https://host/demo-1.0.tar.gz", "./local", "-r other.txt",
                                  "hg+https://host/demo", "demo-git+1"])
def test_other_lines_are_not_git_requirements(line: str) -> None:
    assert parse_line(line) is None


@pytest.mark.parametrize(("requirement", "shown"), [
    (VcsRequirement("https://user:tok@host/org/demo.git", "v1", None), "https://host/org/demo.git@v1"),
    (VcsRequirement("https://${TOKEN}@host/demo.git", None, None), "https://host/demo.git@HEAD"),
    (VcsRequirement("ssh://git@host:2222/demo.git", "main", None), "ssh://git@host:2222/demo.git@main"),
    (VcsRequirement("ssh://git:secret@host/demo.git", "main", None), "ssh://host/demo.git@main"),
])
def test_the_shown_form_holds_no_credentials(requirement: VcsRequirement, shown: str) -> None:
    assert requirement.shown == shown


def test_only_full_commit_hashes_are_pinned() -> None:
    assert VcsRequirement("https://h/r", "0" * 40, None).pins_a_commit
    assert not VcsRequirement("https://h/r", "abc1234", None).pins_a_commit
    assert not VcsRequirement("https://h/r", None, None).pins_a_commit


def test_each_requirement_once_and_variables_as_pip_expands_them() -> None:
    lines = ["a @ git+https://h/a.git@${REF}", "a @ git+https://h/a.git@${REF}", "b==1 ; $HOME", "${TOKEN} ${REF}"]
    assert len(find_vcs_requirements(lines)) == 1
    assert referenced_variables(lines) == ["REF", "TOKEN"]
    assert expand("x ${REF} ${lower} ${UNKNOWN} $REF", {"REF": "main", "lower": "no"}) == \
        "x main ${lower} ${UNKNOWN} $REF"


def test_the_installer_gets_the_named_variables_only() -> None:
    app_env = {"GITLAB_TOKEN": "t0ken-value", "REF": "main", "OTHER": "x"}
    assert installer_variables(["a @ git+https://ci:${GITLAB_TOKEN}@h/a.git@${REF}"], app_env) == \
        {"GITLAB_TOKEN": "t0ken-value", "REF": "main"}
    assert installer_variables(["Flask==3.0"], app_env) == {}


@pytest.mark.parametrize(("line", "named"), [
    ("a @ git+https://h/a.git@${MISSING}", "${MISSING}: not set"),
    ("a @ git+https://h/a.git@${PIP_INDEX_URL}", "${PIP_INDEX_URL}: it configures"),
    ("a @ git+https://h/a.git@${GIT_SSH_COMMAND}", "${GIT_SSH_COMMAND}: it configures"),
    ("a @ git+https://h/a.git@${PATH}", "${PATH}: it configures"),
])
def test_variables_the_installer_cannot_get_are_an_error(line: str, named: str) -> None:
    app_env = {"PIP_INDEX_URL": "x", "GIT_SSH_COMMAND": "x", "PATH": "x"}
    with pytest.raises(errors.BuildpackError) as raised:
        installer_variables([line], app_env)
    assert raised.value.code == "env::unset-requirement-variable"
    assert named in raised.value.detail


LISTED = ("1111111111111111111111111111111111111111\trefs/heads/main\n"
          "2222222222222222222222222222222222222222\trefs/tags/v1\n"
          "3333333333333333333333333333333333333333\trefs/tags/v1^{}\n"
          "4444444444444444444444444444444444444444\tHEAD\n")


@pytest.mark.parametrize(("ref", "commit"), [("main", "1" * 40), ("v1", "3" * 40), ("HEAD", "4" * 40),
                                             ("nope", None)])
def test_ls_remote_lines_give_the_refs_commit(ref: str, commit: str | None) -> None:
    assert vcs_refs.pick_commit(LISTED, ref) == commit


@pytest.mark.parametrize(("said", "code"), [
    ("fatal: Authentication failed for 'https://h/r.git/'", "git::auth-refused"),
    ("fatal: could not read Username for 'https://h': terminal prompts disabled", "git::auth-refused"),
    ("git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.", "git::auth-refused"),
    ("No ED25519 host key is known for [h]:22 and you have requested strict checking.\n"
     "Host key verification failed.", "git::host-key-unknown"),
    ("fatal: repository 'https://h/r.git/' not found", "git::repository-not-found"),
    ("fatal: '/srv/r.git' does not appear to be a git repository", "git::repository-not-found"),
    ("fatal: unable to access 'https://h/r.git/': Could not resolve host: h", "git::unreachable"),
    ("ssh: connect to host h port 22: Connection refused", "git::unreachable"),
    ("fatal: protocol error: bad line length", "git::failed"),
])
def test_git_failures_get_their_own_code(said: str, code: str) -> None:
    requirement = VcsRequirement("https://h/r.git", "main", "r")
    err = vcs_refs.git_failure(requirement, said.splitlines())
    assert err.code == code
    assert said.splitlines()[-1] in err.detail


@pytest.fixture
def private_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile  # noqa: PLC0415 -- its cached directory must follow TMPDIR

    monkeypatch.setattr(tempfile, "tempdir", None)
    yield tmp_path
    private_files.remove_all()


def test_git_credentials_become_a_private_credential_store(private_dir: Path) -> None:
    env = git_access.git_environment(
        {"GIT_CREDENTIALS": "# the CI's token\nhttps://ci:tok%2Fen-123456@git.example.com/org/repo.git\r\n"}, [])
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"
    assert env["GIT_CONFIG_GLOBAL"] == os.devnull
    assert env["GIT_CONFIG_KEY_0"] == "credential.helper"
    path = Path(env["GIT_CONFIG_VALUE_0"].removeprefix("store --file="))
    assert path.read_text() == "https://ci:tok%2Fen-123456@git.example.com\n"  # hosts only
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "tok/en-123456" not in output.redact("tok/en-123456 and tok%2Fen-123456")
    git_access.remove_files()
    assert not path.exists()


@pytest.mark.parametrize("content", ["git.example.com token", "https://git.example.com",
                                     "https://user@git.example.com", "ftp://u:p@host"])
def test_a_credential_line_without_user_and_password_is_refused_unshown(private_dir: Path, content: str) -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        git_access.git_environment({"GIT_CREDENTIALS": f"https://u:p@ok.example.com\n{content}"}, [])
    assert raised.value.code == "git::bad-credentials"
    assert "Line 2" in raised.value.detail
    assert content not in str(vars(raised.value))


def test_ssh_checks_host_keys_strictly_and_uses_only_the_deploy_key(private_dir: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(private_dir / "k")], check=True)
    key = (private_dir / "k").read_text()
    encoded = base64.b64encode(key.encode()).decode()
    env = git_access.git_environment({"SSH_PRIVATE_KEY": encoded, "SSH_KNOWN_HOSTS": "[h]:2222 ssh-ed25519 AAAA"},
                                     [VcsRequirement("ssh://git@h:2222/r.git", None, None)])
    command = env["GIT_SSH_COMMAND"]
    for option in ("StrictHostKeyChecking=yes", "BatchMode=yes", "IdentitiesOnly=yes", "-F /dev/null",
                   "GlobalKnownHostsFile=/dev/null", "IdentityAgent=none"):
        assert option in command
    written = next(private_dir.glob("buildpack-private-*/ssh-key"))
    assert written.read_text() == key  # decoded from base64, as ssh reads it
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert output.redact(encoded) == errors.REDACTED
    assert "StrictHostKeyChecking=no" not in command


def test_ssh_requirements_without_known_hosts_are_refused(private_dir: Path) -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        git_access.git_environment({}, [VcsRequirement("ssh://git@h/r.git", "main", None)])
    assert raised.value.code == "git::no-known-hosts"
    assert "ssh-keyscan" in raised.value.hint


@pytest.mark.parametrize(("value", "reason"), [
    ("not a key at all", "neither a private key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----", "cannot read it"),
])
def test_a_key_ssh_cannot_use_is_refused(private_dir: Path, value: str, reason: str) -> None:
    with pytest.raises(errors.BuildpackError) as raised:
        git_access.git_environment({"SSH_PRIVATE_KEY": value}, [])
    assert raised.value.code == "git::bad-ssh-key"
    assert reason in raised.value.detail


def test_a_key_with_a_passphrase_is_refused(private_dir: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-phrase", "-f", str(private_dir / "k")],
                   check=True)
    with pytest.raises(errors.BuildpackError) as raised:
        git_access.git_environment({"SSH_PRIVATE_KEY": (private_dir / "k").read_text()}, [])
    assert "passphrase" in raised.value.detail


INPUTS = InstallInputs("b", "x86_64", "3.12.1", "sha", "", "req", "steps", "", "tools", "", "default")


def test_an_app_without_git_requirements_keeps_its_key() -> None:
    assert "vcs_commits" not in INPUTS.as_dict()
    with_commits = dataclasses.replace(INPUTS, vcs_commits={"https://h/r.git@main": "1" * 40})
    assert with_commits.digest() != INPUTS.digest()


def test_a_moved_ref_is_the_reason_to_reinstall() -> None:
    before = dataclasses.replace(INPUTS, vcs_commits={"https://h/r.git@main": "1" * 40})
    after = dataclasses.replace(INPUTS, vcs_commits={"https://h/r.git@main": "2" * 40, "https://h/s.git@v1": "3" * 40})
    assert explain_changes(before.as_dict(), after) == [
        "git+https://h/r.git@main moved from 111111111111 to 222222222222",
        "git+https://h/s.git@v1 is new (at 333333333333)"]
