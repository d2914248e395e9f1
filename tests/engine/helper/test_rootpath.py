"""The helper's one path-safe resolver, without root: names split, directories opened
below a root, symlinks refused (layers) or kept inside the root (container files)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.helper.rootpath import Blocked, RootDir, split_name


@pytest.mark.parametrize(("name", "absolute_ok", "parts"), [
    ("a/b/c", False, ("a", "b", "c")),
    ("./a//b/./", False, ("a", "b")),
    ("", False, ()),
    ("/etc/passwd", True, ("etc", "passwd")),
    ("a/..b/c..", False, ("a", "..b", "c..")),
])
def test_split_name_keeps_what_stays_inside(name: str, absolute_ok: bool,
                                            parts: tuple[str, ...]) -> None:
    assert split_name(name, absolute_ok=absolute_ok) == parts


@pytest.mark.parametrize(("name", "absolute_ok", "reason"), [
    ("a/../../etc", True, "dotdot"),
    ("..", True, "dotdot"),
    ("/etc/passwd", False, "absolute"),
    ("a\0b", True, "nul"),
])
def test_split_name_refuses_what_would_escape(name: str, absolute_ok: bool,
                                              reason: str) -> None:
    with pytest.raises(Blocked) as caught:
        split_name(name, absolute_ok=absolute_ok)
    assert caught.value.reason == reason


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """root/{dir/, file, up -> .., abs -> /, out -> <outside>} next to an outside dir."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "dir").mkdir(parents=True)
    (root / "file").write_text("x")
    outside.mkdir()
    (root / "up").symlink_to("..")
    (root / "abs").symlink_to("/")
    (root / "out").symlink_to(outside)
    fd = os.open(root, os.O_PATH | os.O_DIRECTORY)
    try:
        yield root, fd
    finally:
        os.close(fd)


def _path_of(fd: int) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


def test_walk_opens_and_makes_directories(tree: tuple[Path, int]) -> None:
    root, fd = tree
    walker = RootDir(fd, follow_links=False)
    assert _path_of(walker.open_dir(("dir",), create=False)) == str(root / "dir")
    made = walker.open_dir(("dir", "new", "deeper"), create=True)
    assert _path_of(made) == str(root / "dir" / "new" / "deeper")
    assert (root / "dir" / "new").stat().st_mode & 0o777 == 0o755
    with pytest.raises(Blocked) as caught:
        walker.open_dir(("nope", "x"), create=False)
    assert (caught.value.reason, caught.value.parts) == ("missing", ("nope",))


@pytest.mark.parametrize("link", ["up", "abs", "out", "file"])
def test_walk_never_crosses_a_symlink_or_a_file(tree: tuple[Path, int], link: str) -> None:
    _, fd = tree
    with pytest.raises(Blocked) as caught:
        RootDir(fd, follow_links=False).open_dir((link, "x"), create=True)
    assert (caught.value.reason, caught.value.parts) == ("not_dir", (link,))


@pytest.mark.parametrize("link", ["up", "abs"])
def test_in_root_symlinks_lead_back_to_the_root(tree: tuple[Path, int], link: str) -> None:
    root, fd = tree
    resolver = RootDir(fd, follow_links=True)
    assert _path_of(resolver.open_dir((link, "dir"), create=False)) == str(root / "dir")
    # What a container's ../.. or / would make lands inside the root too.
    assert _path_of(resolver.open_dir((link, "made"), create=True)) == str(root / "made")


def test_in_root_absolute_link_out_is_read_inside_the_root(tree: tuple[Path, int]) -> None:
    root, fd = tree
    resolver = RootDir(fd, follow_links=True)
    # "out" points at <tmp>/outside: in the root, that path does not exist.
    with pytest.raises(Blocked):
        resolver.open_dir(("out",), create=False)
    with pytest.raises(FileNotFoundError):  # the link is there: nothing is made through it
        resolver.open_dir(("out", "x"), create=True)
    assert not any((root.parent / "outside").iterdir())
    assert _path_of(resolver.open_dir(("up", "up", "dir"), create=False)) == str(root / "dir")


def test_in_root_keeps_the_existing_prefix(tree: tuple[Path, int]) -> None:
    _, fd = tree
    with pytest.raises(FileNotFoundError):
        RootDir(fd, follow_links=True).open_dir(("gone", "x"), create=True, existing=1)
