"""Editable installs made relative to the slug: each layout pip and uv write,
checked by importing from the moved tree with a real interpreter."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from python_buildpack.install import editable_installs

FINDER = '''from __future__ import annotations
import sys
from importlib.util import spec_from_file_location
from pathlib import Path

MAPPING: dict[str, str] = {{'greeting': '{root}/packages/greeting/greeting'}}
NAMESPACES: dict[str, list[str]] = {{}}


class _EditableFinder:
    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if fullname in MAPPING:
            return spec_from_file_location(fullname, Path(MAPPING[fullname]) / "__init__.py")
        return None


def install():
    sys.meta_path.append(_EditableFinder)
'''


def _slug(root: Path) -> Path:
    """A slug with a project in the app and a site-packages that points at it."""
    package = root / "packages" / "greeting" / "greeting"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("WORDS = 'hello'\n")
    (root / "packages" / "static").mkdir()
    (root / "packages" / "static" / "plain.py").write_text("WORDS = 'plain'\n")
    site_packages = root / ".lean" / "python" / "lib" / "python3.12" / "site-packages"
    site_packages.mkdir(parents=True)
    return site_packages


def _imports(site_packages: Path, *modules: str) -> str:
    code = (f"import site; site.addsitedir({str(site_packages)!r}); "
            + "; ".join(f"import {m}; print({m}.WORDS)" for m in modules))
    return subprocess.run([sys.executable, "-S", "-c", code], capture_output=True, text=True,
                          check=True).stdout


def _move(root: Path, to: Path) -> Path:
    shutil.move(str(root), str(to))
    return to / ".lean" / "python" / "lib" / "python3.12" / "site-packages"


def test_finder_modules_and_path_lines_work_after_a_move(tmp_path: Path) -> None:
    root = tmp_path / "build"
    site_packages = _slug(root)
    finder = site_packages / "__editable___greeting_0_1_finder.py"
    finder.write_text(FINDER.format(root=root))
    (site_packages / "__editable__.greeting-0.1.pth").write_text(
        "import __editable___greeting_0_1_finder; __editable___greeting_0_1_finder.install()")
    (site_packages / "_static.pth").write_text(f"{root}/packages/static\n")
    (site_packages / "__pycache__").mkdir()
    stale = site_packages / "__pycache__" / "__editable___greeting_0_1_finder.cpython-312.pyc"
    stale.write_bytes(b"old bytecode")

    changed = editable_installs.make_relative(site_packages, root)

    assert changed == ["__editable___greeting_0_1_finder.py", "_static.pth"]
    assert not stale.exists()
    assert (site_packages / "_static.pth").read_text() == "../../../../../packages/static\n"
    assert editable_installs.references_to(site_packages, str(root)) == []
    moved = _move(root, tmp_path / "elsewhere")
    assert _imports(moved, "greeting", "plain") == "hello\nplain\n"


def test_egg_links_and_easy_install_pth_of_setup_py_develop(tmp_path: Path) -> None:
    root = tmp_path / "build"
    site_packages = _slug(root)
    (site_packages / "easy-install.pth").write_text(f"{root}/packages/static\n")
    (site_packages / "static.egg-link").write_text(f"{root}/packages/static\n.")

    editable_installs.make_relative(site_packages, root)

    assert (site_packages / "static.egg-link").read_text() == "../../../../../packages/static\n."
    assert _imports(_move(root, tmp_path / "elsewhere"), "plain") == "plain\n"


def test_import_lines_other_roots_and_look_alike_paths_are_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "build"
    site_packages = _slug(root)
    lines = f"import os\n/usr/lib/python3/dist-packages\n{root}0/other\n"
    (site_packages / "other.pth").write_text(lines)
    assert editable_installs.make_relative(site_packages, root) == []
    assert (site_packages / "other.pth").read_text() == lines


def test_record_keeps_the_rewritten_file_hash(tmp_path: Path) -> None:
    root = tmp_path / "build"
    site_packages = _slug(root)
    (site_packages / "_static.pth").write_text(f"{root}/packages/static\n")
    dist_info = site_packages / "static-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "RECORD").write_text("_static.pth,sha256=old,30\nstatic-0.1.dist-info/RECORD,,\n")
    editable_installs.make_relative(site_packages, root)
    data = (site_packages / "_static.pth").read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert (dist_info / "RECORD").read_text().splitlines()[0] == f"_static.pth,sha256={digest},{len(data)}"


def test_direct_urls_follow_a_restore(tmp_path: Path) -> None:
    dist_info = tmp_path / "greeting-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "direct_url.json").write_text(
        '{"dir_info": {"editable": true}, "url": "file:///tmp/one/packages/greeting"}')
    editable_installs.repoint_direct_urls(tmp_path, "/tmp/one", "/tmp/two")
    assert "file:///tmp/two/packages/greeting" in (dist_info / "direct_url.json").read_text()
