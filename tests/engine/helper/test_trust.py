"""The helper's check that the code it runs as root for a user is root's alone."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.helper.trust import check_code, untrusted

pytestmark = pytest.mark.root


@pytest.fixture
def tree() -> Iterator[Path]:
    """A copy of a package under /run: root-owned parents, none writable by others
    (a pytest tmp_path sits under the world-writable /tmp)."""
    if os.geteuid() != 0:
        pytest.skip("needs root: files owned by other users")
    top = Path(tempfile.mkdtemp(prefix="skiff-trust-", dir="/run"))
    top.chmod(0o755)
    package = top / "site" / "engine"
    (package / "helper").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helper" / "server.py").write_text("")
    for path in [top / "site", package, package / "helper"]:
        path.chmod(0o755)
    yield package
    shutil.rmtree(top)


def _check(package: Path) -> str | None:
    return check_code(interpreter="/usr/bin/python3", package=package,
                      import_path=[str(package.parent)])


def test_root_owned_code_passes(tree: Path) -> None:
    assert _check(tree) is None
    assert untrusted(Path("/usr/bin/python3")) is None


def test_a_module_another_user_owns_is_refused(tree: Path) -> None:
    os.chown(tree / "helper" / "server.py", 1000, 1000)
    assert _check(tree) == f"{tree / 'helper' / 'server.py'} belongs to uid 1000, not root"


def test_a_module_others_can_write_is_refused(tree: Path) -> None:
    (tree / "helper" / "server.py").chmod(0o646)
    assert _check(tree) == (f"{tree / 'helper' / 'server.py'} is writable by someone "
                            "other than root")


def test_a_parent_directory_a_group_can_write_is_refused(tree: Path) -> None:
    tree.parent.chmod(0o775)
    assert _check(tree) == f"{tree.parent} is writable by its group"


def test_a_link_is_followed_to_where_it_points(tree: Path) -> None:
    elsewhere = Path(tempfile.mkdtemp(prefix="skiff-trust-", dir="/tmp"))
    try:
        link = tree.parent / "python3"
        target = elsewhere / "python3"
        target.write_text("")
        link.symlink_to(target)
        assert check_code(interpreter=str(link), package=tree, import_path=[]) is None
        elsewhere.chmod(0o777)  # where the link points, anyone may swap the file
        problem = check_code(interpreter=str(link), package=tree, import_path=[])
        assert problem == f"{elsewhere} is writable by others"
    finally:
        shutil.rmtree(elsewhere)


def test_a_root_sticky_directory_above_is_fine_a_writable_one_is_not(tree: Path) -> None:
    top = tree.parents[1]
    top.chmod(0o1777)  # as /tmp
    assert _check(tree) is None
    top.chmod(0o777)
    assert _check(tree) == f"{top} is writable by others"
    top.chmod(0o755)


def test_a_checkout_under_a_home_directory_is_refused(tree: Path) -> None:
    home = tree.parents[1]
    os.chown(home, 1000, 1000)
    assert _check(tree) == f"{home} belongs to uid 1000, not root"
