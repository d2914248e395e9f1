"""The layer unpacker, as root, on the real filesystem and a real overlay mount (its
streams, compressions, damaged input and concurrent unpacks: test_streams.py)."""

from __future__ import annotations

import contextlib
import io
import os
import stat
import struct
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import LayerError
from engine.helper.layers import (
    clean_temp,
    has_layer,
    layer_path,
    layer_size,
    remove_layer,
    unpack_layer,
)
from tests.engine.helper.layers.trees import temp_leftovers, unpack
from tests.layer_corpus import (
    MTIME,
    Member,
    blk,
    chr_,
    digest,
    dir_,
    fifo,
    file,
    hard,
    sym,
)

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="unpacking layers needs root (mknod, chown)"),
]

# vfs_cap_data revision 2, effective, permitted = CAP_NET_BIND_SERVICE.
CAPABILITY = struct.pack("<5I", 0x02000001, 1 << 10, 0, 0, 0)


@contextlib.contextmanager
def overlay(lowers: list[Path], target: Path) -> Iterator[Path]:
    """A read-only overlay of ``lowers`` (top first), unmounted on exit."""
    target.mkdir()
    option = "lowerdir=" + ":".join(str(p) for p in lowers)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", option, str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


# --- paths -----------------------------------------------------------------------


def test_layer_path_is_keyed_by_diff_id(layers: Path) -> None:
    diff_id = "sha256:" + "ab" * 32
    assert layer_path(layers, diff_id) == layers / "sha256" / ("ab" * 32)
    assert not has_layer(layers, diff_id)


@pytest.mark.parametrize(
    "bad",
    ["", "ab" * 32, "sha256:" + "AB" * 32, "sha256:" + "ab" * 31, "sha512:" + "ab" * 32,
     "sha256:" + "ab" * 32 + "/..", "sha256:../../etc"],
)
def test_layer_path_refuses_malformed_ids(layers: Path, bad: str) -> None:
    with pytest.raises(LayerError, match="invalid layer id"):
        layer_path(layers, bad)
    with pytest.raises(LayerError):
        unpack_layer(io.BytesIO(b""), layers, diff_id=bad)


# --- round trip ------------------------------------------------------------------


def base_layer() -> list[Member]:
    return [
        dir_("./", mode=0o755, mtime=MTIME + 1),
        dir_("bin", mtime=MTIME + 2),
        file("bin/tool", b"#!/bin/sh\necho tool\n", mode=0o755, uid=1000, gid=1000),
        file("bin/su", b"su", mode=0o4755),
        file("bin/wall", b"wall", mode=0o2755, gid=1000),
        file("bin/ping", b"ping", mode=0o755, xattrs={"security.capability":
                                                        CAPABILITY.decode("ascii")}),
        dir_("tmp", mode=0o1777, mtime=MTIME + 3),
        dir_("etc", mtime=MTIME + 4),
        file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", mtime=MTIME + 5),
        file("etc/group", b"root:x:0:\n"),
        hard("etc/passwd.link", "etc/passwd"),
        sym("etc/abs", "/etc/passwd", uid=1000, gid=1000, mtime=MTIME + 6),
        sym("etc/rel", "../bin/tool"),
        file("etc/motd", b"first"),
        file("./etc/motd", b"second wins"),
        file("etc/tagged", b"t", xattrs={"user.comment": "hello", "trusted.evil": "no"}),
        dir_("dev", mode=0o755),
        chr_("dev/null", 1, 3, mode=0o666),
        blk("dev/loop0", 7, 0, mode=0o660, gid=6),
        dir_("run"),
        fifo("run/queue", mode=0o620, uid=1000),
        dir_("home/user", mode=0o700, uid=1000, gid=1000, mtime=MTIME + 7),
        file("home/user/.profile", b"export A=1\n", uid=1000, gid=1000),
        file("deep/a/b/file", b"implicit parents"),
        dir_("opt/old"),
        file("opt/old/x", b"old x"),
        file("opt/old/y", b"old y"),
        dir_("opt/keep"),
        file("opt/keep/a", b"keep a"),
    ]


def top_layer() -> list[Member]:
    return [
        dir_("etc", mtime=MTIME + 10),
        file("etc/.wh.group"),
        file("etc/passwd", b"root:x:0:0::/root:/bin/ash\n"),
        dir_("opt/old", mtime=MTIME + 11),
        file("opt/old/.wh..wh..opq"),
        file("opt/old/new", b"new"),
        dir_(".wh..wh.plnk"),
        file(".wh..wh.plnk/123.456", b"aufs"),
        file("bin/.wh.su"),
    ]


def check_base(root: Path) -> None:
    def st(rel: str) -> os.stat_result:
        return os.lstat(root / rel)

    assert stat.S_IMODE(st(".").st_mode) == 0o755
    assert st(".").st_mtime_ns == (MTIME + 1) * 10**9
    assert st("bin").st_mtime_ns == (MTIME + 2) * 10**9
    assert (root / "bin/tool").read_bytes() == b"#!/bin/sh\necho tool\n"
    tool = st("bin/tool")
    assert (tool.st_uid, tool.st_gid, stat.S_IMODE(tool.st_mode)) == (1000, 1000, 0o755)
    assert tool.st_mtime_ns == MTIME * 10**9
    assert stat.S_IMODE(st("bin/su").st_mode) == 0o4755
    wall = st("bin/wall")
    assert (stat.S_IMODE(wall.st_mode), wall.st_gid) == (0o2755, 1000)
    assert os.getxattr(root / "bin/ping", "security.capability") == CAPABILITY
    assert stat.S_IMODE(st("tmp").st_mode) == 0o1777
    assert st("tmp").st_mtime_ns == (MTIME + 3) * 10**9
    assert st("etc").st_mtime_ns == (MTIME + 4) * 10**9
    assert st("etc/passwd").st_mtime_ns == (MTIME + 5) * 10**9
    assert st("etc/passwd.link").st_ino == st("etc/passwd").st_ino
    assert st("etc/passwd").st_nlink == 2
    abs_link = st("etc/abs")
    assert stat.S_ISLNK(abs_link.st_mode)
    assert os.readlink(root / "etc/abs") == "/etc/passwd"
    assert (abs_link.st_uid, abs_link.st_gid) == (1000, 1000)
    assert abs_link.st_mtime_ns == (MTIME + 6) * 10**9
    assert os.readlink(root / "etc/rel") == "../bin/tool"
    assert (root / "etc/motd").read_bytes() == b"second wins"
    assert os.getxattr(root / "etc/tagged", "user.comment") == b"hello"
    with pytest.raises(OSError):
        os.getxattr(root / "etc/tagged", "trusted.evil")
    null = st("dev/null")
    assert stat.S_ISCHR(null.st_mode) and stat.S_IMODE(null.st_mode) == 0o666
    assert (os.major(null.st_rdev), os.minor(null.st_rdev)) == (1, 3)
    loop = st("dev/loop0")
    assert stat.S_ISBLK(loop.st_mode) and os.minor(loop.st_rdev) == 0
    assert (os.major(loop.st_rdev), loop.st_gid, stat.S_IMODE(loop.st_mode)) == (7, 6, 0o660)
    queue = st("run/queue")
    assert stat.S_ISFIFO(queue.st_mode)
    assert (stat.S_IMODE(queue.st_mode), queue.st_uid) == (0o620, 1000)
    home = st("home/user")
    assert (home.st_uid, home.st_gid, stat.S_IMODE(home.st_mode)) == (1000, 1000, 0o700)
    assert home.st_mtime_ns == (MTIME + 7) * 10**9
    implicit = st("deep/a")
    assert (stat.S_IMODE(implicit.st_mode), implicit.st_uid) == (0o755, 0)
    assert (root / "deep/a/b/file").read_bytes() == b"implicit parents"


def check_top(root: Path) -> None:
    group = os.lstat(root / "etc/group")
    assert stat.S_ISCHR(group.st_mode) and group.st_rdev == 0
    assert os.getxattr(root / "opt/old", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(root / "opt/old")) == ["new"]
    assert not os.path.lexists(root / ".wh..wh.plnk")
    assert not any(name.startswith(".wh.") for _, ds, fs in os.walk(root) for name in ds + fs)
    assert os.lstat(root / "etc").st_mtime_ns == (MTIME + 10) * 10**9
    assert os.lstat(root / "opt/old").st_mtime_ns == (MTIME + 11) * 10**9


@pytest.mark.parametrize("how", ["plain", "gzip", "zstd"])
def test_round_trip_and_overlay_view(layers: Path, tmp_path: Path, how: str) -> None:
    base_id, base_size = unpack(layers, base_layer(), how)
    top_id, top_size = unpack(layers, top_layer(), how)
    expected = sum(len(data) for info, data in base_layer() if info.isreg() and data) + \
        sum(len(info.linkname) for info, _ in base_layer() if info.issym())
    assert base_size == expected - len(b"first")  # the overwritten motd is gone
    assert top_size == len(b"root:x:0:0::/root:/bin/ash\n") + len(b"new")
    assert has_layer(layers, base_id) and has_layer(layers, top_id)
    assert layer_size(layers, base_id) == base_size
    assert temp_leftovers(layers) == []
    base, top = layer_path(layers, base_id), layer_path(layers, top_id)
    check_base(base)
    check_top(top)

    with overlay([top, base], tmp_path / "merged") as merged:
        assert not os.path.lexists(merged / "etc/group")
        assert (merged / "etc/passwd").read_bytes().endswith(b"/bin/ash\n")
        assert (merged / "etc/passwd.link").read_bytes().endswith(b"/bin/sh\n")
        assert sorted(os.listdir(merged / "opt/old")) == ["new"]
        assert sorted(os.listdir(merged / "opt/keep")) == ["a"]
        assert not os.path.lexists(merged / "bin/su")
        assert (merged / "bin/tool").read_bytes().startswith(b"#!/bin/sh")
        assert stat.S_IMODE(os.lstat(merged / "bin/wall").st_mode) == 0o2755
        assert os.readlink(merged / "etc/abs") == "/etc/passwd"
        assert not os.path.lexists(merged / ".wh..wh.plnk")


def test_files_in_set_gid_directories_get_the_group_the_tar_says(layers: Path) -> None:
    """A file made in a set-gid directory takes the directory's group: those the tar
    wants owned by root:root are chowned still, even when the directory's entry came
    after them or changed; the others are left as made."""
    diff_id, _ = unpack(layers, [
        dir_("shared", mode=0o2775, gid=50),
        file("shared/root", b"r"),
        file("shared/staff", b"s", gid=50),
        sym("shared/link", "root"),
        dir_("shared/sub", mode=0o2755, gid=70),
        file("shared/sub/root", b"r"),
        file("shared/implicit/root", b"r"),  # its directory made without an entry
        file("later/root", b"r"),
        dir_("later", mode=0o2755, gid=60),
        file("later/after", b"a"),
        dir_("shared", mode=0o755, gid=0),  # the same directory again, plain now
        file("shared/plain", b"p"),
        file("plain/root", b"r"),
    ])
    root = layer_path(layers, diff_id)
    groups = {rel: os.lstat(root / rel).st_gid for rel in (
        "shared/root", "shared/staff", "shared/link", "shared/sub", "shared/sub/root",
        "shared/implicit", "shared/implicit/root", "later/root", "later/after",
        "shared/plain", "plain/root")}
    assert groups == {"shared/root": 0, "shared/staff": 50, "shared/link": 0,
                      "shared/sub": 70, "shared/sub/root": 0, "shared/implicit": 50,
                      "shared/implicit/root": 0, "later/root": 0, "later/after": 0,
                      "shared/plain": 0, "plain/root": 0}
    assert os.lstat(root / "shared").st_gid == 0


def test_pax_times_are_exact(layers: Path) -> None:
    info, data = file("f", b"x")
    info.pax_headers = {"mtime": "1600000000.123456789"}
    diff_id, _ = unpack(layers, [(info, data)])
    assert os.lstat(layer_path(layers, diff_id) / "f").st_mtime_ns == 1600000000123456789


def test_non_utf8_names_are_kept_byte_for_byte(layers: Path) -> None:
    name = b"caf\xe9".decode("utf-8", "surrogateescape")
    info, _ = file(name, b"x")
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.GNU_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as out:
        out.addfile(info, io.BytesIO(b"x"))
    blob = tar.getvalue()
    unpack_layer(io.BytesIO(blob), layers, diff_id=digest(blob))
    assert os.listdir(os.fsencode(layer_path(layers, digest(blob)))) == [b"caf\xe9"]


def test_later_entries_replace_earlier_ones_without_writing_through(layers: Path) -> None:
    diff_id, _ = unpack(layers, [
        file("f", b"original"),
        hard("h", "f"),
        file("h", b"replacement"),  # must not write into f through the link
        dir_("d"),
        file("d/inner", b"x"),
        file("d", b"file now"),
        file("e", b"file first"),
        dir_("e"),
        file("e/child", b"y"),
    ])
    root = layer_path(layers, diff_id)
    assert (root / "f").read_bytes() == b"original"
    assert (root / "h").read_bytes() == b"replacement"
    assert (root / "d").read_bytes() == b"file now"
    assert (root / "e/child").read_bytes() == b"y"
    assert temp_leftovers(layers) == []


def test_the_size_counts_what_is_left_after_replacements(layers: Path) -> None:
    _, plain = unpack(layers, [file("f", b"12345"), hard("h", "f"), dir_("d"),
                               file("d/x", b"1234")])
    assert plain == 9  # the hard link counted once
    diff_id, replaced = unpack(layers, [
        file("f", b"12345"), hard("h", "f"), file("g", b"abc"), file("g", b"xy"),
        dir_("d"), file("d/x", b"1234"), file("d", b"z"),
    ])
    assert replaced == 5 + 2 + 1 == layer_size(layers, diff_id)


def test_entries_alternating_between_many_directories(layers: Path) -> None:
    members: list[Member] = [dir_(f"d{i}") for i in range(50)]
    members += [file(f"d{i}/f{n}", f"{i}.{n}".encode()) for n in range(3) for i in range(50)]
    diff_id, size = unpack(layers, members)
    root = layer_path(layers, diff_id)
    for i in range(50):
        assert sorted(os.listdir(root / f"d{i}")) == ["f0", "f1", "f2"]
        assert (root / f"d{i}/f2").read_bytes() == f"{i}.2".encode()
    assert size == sum(len(f"{i}.{n}") for n in range(3) for i in range(50))


def test_busybox_rootfs_runs_in_a_chroot(layers: Path) -> None:
    busybox = Path("/bin/busybox").read_bytes()
    applets = subprocess.run(["/bin/busybox", "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    members: list[Member] = [dir_("bin"), file("bin/busybox", busybox, mode=0o755)]
    for applet in applets:
        if applet == "busybox":
            continue
        if applet == "sh":
            members.append(hard("bin/sh", "bin/busybox"))
        else:
            members.append(sym(f"bin/{applet}", "busybox"))
    members += [dir_("tmp", mode=0o1777), dir_("etc"), file("etc/hostname", b"skiff\n")]
    diff_id, size = unpack(layers, members, "gzip")
    assert size == len(busybox) + len(b"skiff\n") + len(b"busybox") * (len(applets) - 2)
    root = layer_path(layers, diff_id)
    assert os.lstat(root / "bin/sh").st_ino == os.lstat(root / "bin/busybox").st_ino
    result = subprocess.run(
        ["chroot", str(root), "/bin/sh", "-c", "cat /etc/hostname; ls /bin | wc -l"],
        check=True, capture_output=True, text=True,
    )
    assert result.stdout.split() == ["skiff", str(len(set(applets) | {"busybox"}))]


# --- removal ---------------------------------------------------------------------


def test_remove_layer_handles_depth_modes_and_links(layers: Path, outside: Path) -> None:
    deep = "/".join(["d"] * 1500)  # deeper than Python's recursion limit
    diff_id, _ = unpack(layers, [
        sym("out", str(outside)),
        sym("keep", str(outside / "keep")),
        hard("keep.link", "keep"),
        dir_("locked", mode=0o000),
        file("locked/f", b"x", mode=0o000),
        file(f"{deep}/bottom", b"deep"),
        fifo("pipe"),
    ])
    try:
        assert layer_size(layers, diff_id) == len(b"x") + len(b"deep") + \
            len(str(outside)) + len(str(outside / "keep"))  # the symlinks' targets
    finally:
        remove_layer(layers, diff_id)  # also when the test fails: pytest cannot rm this deep
    assert not has_layer(layers, diff_id)
    assert (outside / "keep").read_bytes() == b"keep"
    assert temp_leftovers(layers) == []
    remove_layer(layers, diff_id)  # already gone: nothing to do


def test_remove_layer_without_a_store(layers: Path) -> None:
    remove_layer(layers, "sha256:" + "2" * 64)
    assert not layers.exists()


def test_clean_temp_removes_interrupted_unpacks(layers: Path, outside: Path) -> None:
    stale = layers / "tmp" / "abc-123"
    stale.joinpath("x/y").mkdir(parents=True)
    os.symlink(outside, stale / "x/out")
    (stale / "x/y/f").write_bytes(b"x")
    clean_temp(layers)
    assert temp_leftovers(layers) == []
    assert (outside / "keep").read_bytes() == b"keep"


@pytest.mark.parametrize("replace", [False, True], ids=["counted-while-written", "on-disk"])
def test_a_layers_size_is_what_docker_counts(layers: Path, replace: bool) -> None:
    """Docker's SIZE sums the layer's files as du would: regular files' bytes (hard links
    once) and symlinks' targets; directories, devices and the tar's headers count nothing."""
    members = [dir_("etc"), file("etc/data", b"x" * 1000), hard("etc/again", "etc/data"),
               sym("etc/link", "data"), fifo("etc/pipe"), file("empty")]
    if replace:
        members.append(file("etc/data", b"y" * 300))  # the later entry wins
    diff_id, size = unpack(layers, members)
    # A replaced file's hard link keeps the old content, as on docker's disk.
    expected = (1000 + 300 if replace else 1000) + len("data")
    assert size == expected
    assert layer_size(layers, diff_id) == expected
