"""``docker diff`` from overlay upper dirs: built by hand, and by a real overlay mount."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from engine.errors import LayerError
from engine.helper.changes import changes
from engine.helper.layers import layer_path, unpack_layer
from tests.layer_corpus import digest, dir_, file, sym, tar_bytes

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="whiteouts and trusted xattrs need root"),
]


def make(root: Path, spec: dict[str, str | bytes | None]) -> Path:
    """Files (bytes), dirs (None), whiteouts ("whiteout"), opaque dirs ("opaque")."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, what in spec.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if what is None:
            path.mkdir(exist_ok=True)
        elif what == "whiteout":
            os.mknod(path, stat.S_IFCHR, os.makedev(0, 0))
        elif what == "opaque":
            path.mkdir(exist_ok=True)
            os.setxattr(path, "trusted.overlay.opaque", b"y")
        elif isinstance(what, str) and what.startswith("->"):
            os.symlink(what[2:], path)
        else:
            assert isinstance(what, bytes)
            path.write_bytes(what)
    return root


def test_hand_built_upper_over_two_lowers(tmp_path: Path) -> None:
    base = make(tmp_path / "base", {
        "etc/hosts": b"127.0.0.1 localhost\n",
        "etc/passwd": b"root\n",
        "etc/group": b"root\n",
        "bin/sh": b"sh",
        "opt/d/x": b"x",
        "opt/d/sub/y": b"y",
        "usr/lib/a": b"a",
        "var/log": None,
        "srv": b"a file in the base",
    })
    top = make(tmp_path / "top", {
        "etc/group": "whiteout",  # the image has no /etc/group
        "usr/lib": "opaque",  # nor /usr/lib/a
        "usr/lib/b": b"b",
        "srv": None,  # a directory hides the base's file
        "srv/www": b"w",
    })
    upper = make(tmp_path / "upper", {
        "etc/hosts": b"127.0.0.1 localhost skiff\n",
        "etc/passwd": "whiteout",
        "etc/group": b"new group\n",
        "tmp/new": b"n",
        "opt/d": "opaque",
        "opt/d/z": b"z",
        "opt/d/sub": None,
        "usr/lib/a": b"back",
        "var": "->/",  # never followed: the host's / is not listed
        "srv/www": "whiteout",
        "escape": "->../../..",
    })
    assert changes(upper, [top, base]) == [
        ("A", "/escape"),
        ("C", "/etc"),
        ("A", "/etc/group"),
        ("C", "/etc/hosts"),
        ("D", "/etc/passwd"),
        ("C", "/opt"),
        ("C", "/opt/d"),
        ("C", "/opt/d/sub"),
        ("D", "/opt/d/sub/y"),
        ("D", "/opt/d/x"),
        ("A", "/opt/d/z"),
        ("C", "/srv"),
        ("D", "/srv/www"),
        ("A", "/tmp"),
        ("A", "/tmp/new"),
        ("C", "/usr"),
        ("C", "/usr/lib"),
        ("A", "/usr/lib/a"),
        ("C", "/var"),
    ]


def test_a_new_directory_replacing_a_file_and_an_opaque_subtree(tmp_path: Path) -> None:
    lower = make(tmp_path / "lower", {"a": b"file", "b/c/d": b"deep", "b/keep": b"k"})
    upper = make(tmp_path / "upper", {"a/inside": b"i", "b": "opaque", "b/c": None})
    assert changes(upper, [lower]) == [
        ("C", "/a"),
        ("A", "/a/inside"),
        ("C", "/b"),
        ("C", "/b/c"),
        ("D", "/b/c/d"),
        ("D", "/b/keep"),
    ]


def test_empty_upper_and_missing_upper(tmp_path: Path) -> None:
    lower = make(tmp_path / "lower", {"etc/hosts": b"h"})
    assert changes(make(tmp_path / "upper", {}), [lower]) == []
    assert changes(make(tmp_path / "alone", {"x": b"x"}), []) == [("A", "/x")]
    with pytest.raises(LayerError, match="cannot read the container's changes"):
        changes(tmp_path / "nothing", [lower])


def test_real_overlay_mount(tmp_path: Path) -> None:
    tar = tar_bytes([
        dir_("etc"),
        file("etc/hosts", b"127.0.0.1 localhost\n"),
        file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
        dir_("opt/d"),
        file("opt/d/x", b"x"),
        file("opt/d/sub/y", b"y"),
        dir_("var", mode=0o755),
        sym("bin", "usr/bin"),
        dir_("usr/bin"),
        file("usr/bin/tool", b"t", mode=0o755),
    ])
    layers = tmp_path / "layers"
    unpack_layer(io.BytesIO(tar), layers, diff_id=digest(tar))
    lower = layer_path(layers, digest(tar))
    upper, work, merged = tmp_path / "upper", tmp_path / "work", tmp_path / "merged"
    for path in (upper, work, merged):
        path.mkdir()
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)],
                   check=True)
    try:
        (merged / "etc/hosts").write_bytes(b"127.0.0.1 localhost skiff\n")
        (merged / "etc/passwd").unlink()
        (merged / "tmp").mkdir()
        (merged / "tmp/new").write_bytes(b"n")
        shutil.rmtree(merged / "opt/d")
        (merged / "opt/d").mkdir()  # over a whiteout: overlayfs makes it opaque
        (merged / "opt/d/z").write_bytes(b"z")
        os.chmod(merged / "var", 0o700)  # metadata only
        os.symlink("/etc/hosts", merged / "link")
        (merged / "bin/tool").write_bytes(b"through the symlink")  # changes /usr/bin/tool
        result = changes(upper, [lower])
    finally:
        subprocess.run(["umount", str(merged)], check=True)
    assert os.getxattr(upper / "opt/d", "trusted.overlay.opaque") == b"y"
    assert result == [
        ("C", "/etc"),
        ("C", "/etc/hosts"),
        ("D", "/etc/passwd"),
        ("A", "/link"),
        ("C", "/opt"),
        ("C", "/opt/d"),
        ("D", "/opt/d/sub"),
        ("D", "/opt/d/x"),
        ("A", "/opt/d/z"),
        ("A", "/tmp"),
        ("A", "/tmp/new"),
        ("C", "/usr"),
        ("C", "/usr/bin"),
        ("C", "/usr/bin/tool"),
        ("C", "/var"),
    ]


def test_what_the_runtime_made_is_no_change(tmp_path: Path) -> None:
    """docker keeps mount points and generated /etc files in an init layer: not changes."""
    from engine.helper.changes import container_changes

    image = make(tmp_path / "image", {"etc/passwd": b"root\n", "bin/sh": b"sh", "var/lib": None,
                                      "srv/www": None})
    os.chmod(image / "srv", 0o755)
    upper = make(tmp_path / "upper", {
        "proc": None, "sys": None, "dev": None,  # mount points, new
        "etc/hosts": b"127.0.0.1 localhost\n", "etc/hostname": b"abc\n",
        "etc/resolv.conf": b"nameserver 1.1.1.1\n",
        "data/in": None,  # a volume mounted at /data/in: /data made only for it
        "var/lib/bound": b"",  # a file bind-mounted at /var/lib/bound
        "srv/www/site": None,  # a mount point under a directory the container chmodded
    })
    shutil.copystat(image / "etc", upper / "etc")
    os.chmod(upper / "var", os.stat(image / "var").st_mode)
    os.chmod(upper / "var" / "lib", os.stat(image / "var" / "lib").st_mode)
    os.chmod(upper / "srv", 0o700)
    mounts = ["/data/in", "/var/lib/bound/", "/srv/www/site"]
    assert container_changes(upper, [image], mounts) == [("C", "/srv")]
    # Beside real changes the same directories show, as docker shows them.
    make(upper, {"etc/motd": b"hi\n", "data/own": b"mine", "var/lib/db": b"1"})
    os.chmod(upper / "srv", 0o755)
    assert container_changes(upper, [image], mounts) == [
        ("A", "/data"), ("A", "/data/own"), ("C", "/etc"), ("A", "/etc/motd"),
        ("C", "/var"), ("C", "/var/lib"), ("A", "/var/lib/db")]
    assert ("A", "/proc") in changes(upper, [image])  # the raw walk still sees them
