"""Debian packages for the system dependencies: resolved and downloaded with
apt into the build cache, unpacked into the slug without root and without
touching the build host.

apt runs with its own state under ``CACHE_DIR/python-buildpack/apt/``: the
package lists (refreshed when a day old) and the downloaded ``.deb`` files
(kept, so a rebuild with the same list downloads nothing). It reads the host's
dpkg status: what the build image (which is also the run image) already has is
not downloaded, except the packages a hook names, which always go into the slug.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from python_buildpack.reporting import errors
from python_buildpack.support import commands, disk_space

LISTS_MAX_AGE_SECONDS = 24 * 3600
HOST_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
HOST_STATUS = Path("/var/lib/dpkg/status")  # the packages the build image has
# The C library comes from the run image: a second libc on the library path
# would not match the image's dynamic loader.
NEVER_SHIPPED = frozenset({"libc6", "libc-bin", "libc6-dev", "libc-dev-bin", "linux-libc-dev"})
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")
# `Inst name [installed-version] (candidate-version origins [arch])` in apt-get -s output.
_INST_LINE = re.compile(r"^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) .*\[([\w-]+)\]\)")


@dataclass(frozen=True)
class DebPackage:
    name: str
    version: str
    arch: str

    @property
    def file_name(self) -> str:
        # apt's archive names escape the epoch's colon.
        return f"{self.name}_{self.version.replace(':', '%3a')}_{self.arch}.deb"


class AptSource:
    """apt with private lists and archives in the build cache."""

    def __init__(self, cache_root: Path, host_env: Mapping[str, str]) -> None:
        self.mirror = (host_env.get("SYSTEM_PACKAGES_MIRROR") or "").strip() or None
        self.root = cache_root / "apt"
        self.archives = self.root / "archives"
        sources_text = _mirror_sources(self.mirror) if self.mirror else _host_sources_text()
        digest = hashlib.sha256(sources_text.encode()).hexdigest()[:16]
        self.lists = self.root / "lists" / digest
        self._sources_file = self.root / "sources" / f"{digest}.list"
        self._sources_text = sources_text
        self._env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C.UTF-8",
                     **{name: host_env[name] for name in _PROXY_VARIABLES if name in host_env}}

    @property
    def description(self) -> str:
        return self.mirror or "the build image's apt sources (/etc/apt)"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One build at a time writes the shared lists and archives."""
        for directory in (self.lists / "partial", self.archives / "partial", self.root / "parts"):
            directory.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _options(self) -> list[str]:
        options = {
            "Dir::State::Lists": str(self.lists),
            "Dir::State::status": str(HOST_STATUS),
            "Dir::State::extended_states": str(self.root / "extended_states"),
            "Dir::Cache::archives": str(self.archives),
            "Dir::Cache::pkgcache": "",
            "Dir::Cache::srcpkgcache": "",
            "Dir::Log": str(self.root / "log"),
            "Debug::NoLocking": "1",  # the host's dpkg lock is not ours to take
            "Acquire::Retries": "3",
            "Acquire::http::Timeout": "30",
        }
        if os.geteuid() == 0:
            # As root apt fetches as the _apt user, who may not reach a cache
            # directory inside a private build tree.
            options["APT::Sandbox::User"] = "root"
        if self.mirror:
            self._sources_file.parent.mkdir(parents=True, exist_ok=True)
            self._sources_file.write_text(self._sources_text)
            options["Dir::Etc::SourceList"] = str(self._sources_file)
            options["Dir::Etc::SourceParts"] = str(self.root / "parts")
        return [item for name, value in options.items() for item in ("-o", f"{name}={value}")]

    def _apt_get(self, *arguments: str) -> str:
        return commands.capture(["apt-get", "-q", *self._options(), *arguments], env=self._env)

    def _apt_get_logged(self, *arguments: str) -> None:
        """apt-get with its output (a `Get:` line per download) in the build log."""
        commands.run(["apt-get", "-q", *self._options(), *arguments], env=self._env)

    def refresh_lists(self, force: bool = False) -> bool:
        """Fetch the package lists when missing, a day old, or forced; True if fetched."""
        stamp = self.lists / ".fetched"
        if not force and stamp.is_file() and time.time() - stamp.stat().st_mtime < LISTS_MAX_AGE_SECONDS:
            return False
        try:
            self._apt_get("update", "--error-on=any")
        except commands.CommandFailed as failure:
            stamp.unlink(missing_ok=True)
            raise errors.system_packages_unreachable(self.description, _error_lines(failure)) from failure
        stamp.write_text("")
        return True

    def resolve(self, names: Sequence[str]) -> list[DebPackage]:
        """The packages to unpack for names: the named ones and what they need
        that the build image lacks."""
        try:
            plan = self._apt_get("-s", "--reinstall", "--no-install-recommends", "install", *names)
        except commands.CommandFailed as failure:
            raise errors.system_packages_unresolvable(list(names), _error_lines(failure)) from failure
        return [package for package in parse_simulation(plan) if package.name not in NEVER_SHIPPED]

    def download(self, names: Sequence[str]) -> int:
        """Fetch what the archive cache lacks; the number of bytes downloaded."""
        before = _archive_sizes(self.archives)
        arguments = ("-y", "--download-only", "--reinstall", "--no-install-recommends", "install", *names)
        try:
            self._apt_get_logged(*arguments)
        except commands.CommandFailed:
            # Lists a few hours old can name files the mirror has replaced.
            self.refresh_lists(force=True)
            try:
                self._apt_get_logged(*arguments)
            except commands.CommandFailed as failure:
                raise errors.system_packages_unreachable(self.description, _error_lines(failure)) from failure
        after = _archive_sizes(self.archives)
        return sum(size for name, size in after.items() if before.get(name) != size)

    def archive_of(self, package: DebPackage) -> Path:
        return self.archives / package.file_name


def parse_simulation(text: str) -> list[DebPackage]:
    packages = []
    for line in text.splitlines():
        match = _INST_LINE.match(line)
        if match:
            packages.append(DebPackage(*match.groups()))
    return packages


def unpack(archive: Path, target: Path) -> None:
    try:
        commands.capture(["dpkg-deb", "--extract", str(archive), str(target)])
    except commands.CommandFailed as failure:
        if disk_space.is_disk_full(failure):
            raise errors.disk_full(str(target)) from failure
        raise errors.system_package_broken(archive.name, "\n".join(failure.tail[-3:])) from failure


def _archive_sizes(archives: Path) -> dict[str, int]:
    return {path.name: path.stat().st_size for path in archives.glob("*.deb")}


def _error_lines(failure: commands.CommandFailed) -> list[str]:
    wanted = [line for line in failure.tail if line.startswith(("E:", "Err:", "W:"))
              or "Unable to" in line or "Could not" in line]
    return wanted or failure.tail[-6:]


def _host_sources_text() -> str:
    parts = []
    for source in HOST_SOURCES:
        files = sorted(source.iterdir()) if source.is_dir() else [source]
        parts += [path.read_text(errors="replace") for path in files if path.is_file()]
    return "\n".join(parts)


def _mirror_sources(mirror: str) -> str:
    codename = _os_release().get("VERSION_CODENAME", "bookworm")
    signed = f"[signed-by={DEBIAN_KEYRING}] " if DEBIAN_KEYRING.is_file() else ""
    return "".join(f"deb {signed}{mirror} {suite} main\n" for suite in (codename, f"{codename}-updates"))


def _os_release() -> dict[str, str]:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value.strip('"') for key, value in pairs}

