"""Differential check: the root filesystem Skiff builds from a pulled image is the
one ``umoci unpack`` builds from the same image.

Skiff's side: pull from the registry (each layer unpacked by the real unpacker
into its own directory), then a read-only overlay of the layer directories,
which is how containers see them. umoci's side: ``umoci unpack`` of the OCI
layout that was pushed to the registry. Compared: every path, its type, mode,
owner, link target, device numbers and file contents.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.images.reference import Reference
from tests.fixtures.registry import LocalRegistry, ServiceKit

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="unpacking layers and overlay mounts need root"),
]

Kit = Callable[..., ServiceKit]


def tree(root: Path) -> dict[str, tuple[object, ...]]:
    """path → (type, mode, uid, gid, link target | content hash | rdev) for a whole tree."""
    found: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            st = path.lstat()
            kind = stat.S_IFMT(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                detail: object = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                detail = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                detail = (os.major(st.st_rdev), os.minor(st.st_rdev))
            else:
                detail = None
            found[str(path.relative_to(root))] = (kind, stat.S_IMODE(st.st_mode), st.st_uid,
                                                  st.st_gid, detail)
    return found


@contextlib.contextmanager
def overlay(lowers: list[Path], target: Path) -> Iterator[Path]:
    """A read-only overlay of ``lowers`` (top first), unmounted on exit."""
    target.mkdir()
    option = "lowerdir=" + ":".join(str(p) for p in lowers)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"ro,{option}", str(target)],
                   check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


@pytest.mark.parametrize(("repository", "layout_fixture"), [
    ("test/busybox", "busybox_oci"),
    ("test/multilayer", "busybox_multilayer_oci"),
    ("test/tricky", "tricky_oci"),
])
def test_unpacked_rootfs_matches_umoci(plain_registry: LocalRegistry, registry_service: Kit,
                                       tmp_path: Path, request: pytest.FixtureRequest,
                                       repository: str, layout_fixture: str) -> None:
    from engine.helper.layers import layer_path

    layout: Path = request.getfixturevalue(layout_fixture)
    layers_dir = tmp_path / "layers"
    kit = registry_service(unpack_into=layers_dir)
    image = asyncio.run(kit.service.pull(Reference.parse(f"{plain_registry.host}/{repository}"),
                                         unpack=kit.unpack))

    bundle = tmp_path / "umoci-bundle"
    subprocess.run(["umoci", "unpack", "--image", f"{layout}:latest", str(bundle)], check=True,
                   capture_output=True)
    expected = tree(bundle / "rootfs")

    empty = tmp_path / "empty"  # overlay wants two lower dirs at least
    empty.mkdir()
    lowers = [layer_path(layers_dir, la.diff_id) for la in reversed(image.layers)]
    with overlay([*lowers, empty], tmp_path / "merged") as merged:
        actual = tree(merged)

    assert len(expected) > 100  # busybox and its applet links at least
    if repository == "test/tricky":
        _check_tricky(expected)
    assert sorted(actual) == sorted(expected)
    different = {p: (actual[p], expected[p]) for p in expected if actual[p] != expected[p]}
    assert different == {}


def _check_tricky(rootfs: dict[str, tuple[object, ...]]) -> None:
    """The tricky image really exercises whiteouts, opaque dirs, owners and links."""
    def digest(text: bytes) -> str:
        return hashlib.sha256(text).hexdigest()

    assert "data/a" not in rootfs and "data/sub" not in rootfs  # opaque /data
    assert rootfs["data/new"][4] == digest(b"new\n")
    assert "keep/x" not in rootfs and "keep/y" in rootfs  # whiteout in a subdirectory
    assert rootfs["gone.txt"][4] == digest(b"back\n")  # deleted, then added again
    assert rootfs["link"] == (stat.S_IFLNK, 0o777, 0, 0, "data/new")
    assert rootfs["owned"] == (stat.S_IFREG, 0o640, 1000, 1000, digest(b"secret\n"))
    assert rootfs["setuid"][1] == 0o4755
    assert rootfs["fifo"][0] == stat.S_IFIFO
    assert rootfs["newdir"][:4] == (stat.S_IFDIR, 0o750, 2, 2)
    assert rootfs["etc/hard"] == rootfs["etc/config.txt"]
    assert rootfs["etc/config.txt"][4] == digest(b"three\n")
