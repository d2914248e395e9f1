"""A container's changes as a layer: whiteouts, opaque directories, owners shifted back
through the user namespace map (container root is uid 0 in the layer, whoever ran it),
file capabilities, and the helper's size limit."""

from __future__ import annotations

import os
import struct
import tarfile
from pathlib import Path
from typing import Any

import pytest

from engine.containers.config import ContainerConfig
from engine.errors import LayerError
from engine.helper.upperlayer import IdShift, write_upper_layer


def test_shift_back_through_the_map() -> None:
    shift = IdShift([[0, 1000, 1], [1, 100000, 65536]])
    assert shift.inside(1000) == 0 and shift.inside(100004) == 5
    assert shift.inside(5) == 65534  # not in the map: nobody
    assert IdShift(None).inside(42) == 42


async def _layer_members(engine: Any, userns: str) -> dict[str, tarfile.TarInfo]:
    config = ContainerConfig(
        image="busybox", image_id="", network="none", userns=userns,
        cmd=["sh", "-c", "mkdir /made && touch /made/f && chown 5:6 /made/f && rm /etc/group"
                         " && rm -rf /home && mkdir /home && touch /home/new"])
    seam = engine._build_seam()
    code, layer = await seam.run(config, lambda _s, _d: None)
    assert code == 0 and layer is not None
    with seam.blobs.open(layer.digest) as raw, tarfile.open(fileobj=raw) as tar:
        return {m.name: m for m in tar.getmembers()}


async def test_layer_of_a_remapped_container(engine: Any, root_subids: tuple[int, int]
                                             ) -> None:
    members = await _layer_members(engine, "remap")
    assert (members["made"].uid, members["made"].gid) == (0, 0)
    assert (members["made/f"].uid, members["made/f"].gid) == (5, 6)
    assert "etc/.wh.group" in members
    assert "home/.wh..wh..opq" in members and "home/new" in members
    # what the runtime made is no change of the container's
    assert not [n for n in members if n.startswith(("dev", "proc", "sys", "etc/hosts"))]


async def test_layer_of_a_plain_container(engine: Any) -> None:
    members = await _layer_members(engine, "")
    assert (members["made/f"].uid, members["made/f"].gid) == (5, 6)
    assert members["made"].uid == 0


def _caps(revision: int, rootid: int | None = None) -> bytes:
    """CAP_NET_RAW permitted and effective, in the kernel's vfs_cap_data layout."""
    head = struct.pack("<IIIII", revision | 1, 1 << 13, 0, 0, 0)
    return head if rootid is None else head + struct.pack("<I", rootid)


def _upper_with_caps(tmp_path: Path, caps: dict[str, bytes]) -> Path:
    upper = tmp_path / "upper"
    upper.mkdir()
    for name, value in caps.items():
        (upper / name).write_bytes(b"#!/bin/sh\n")
        try:
            os.setxattr(upper / name, "security.capability", value)
        except OSError as exc:
            pytest.skip(f"this filesystem keeps no file capabilities: {exc.strerror}")
    return upper


def _members(upper: Path, tmp_path: Path, shift: IdShift,
             max_bytes: int = 1 << 30) -> dict[str, tarfile.TarInfo]:
    out = tmp_path / "layer.tar"
    with open(out, "wb") as sink:
        write_upper_layer(upper, [], [], sink.fileno(), shift, shift, max_bytes)
    with tarfile.open(out) as tar:
        return {m.name: m for m in tar.getmembers()}


def _kept(member: tarfile.TarInfo) -> bytes | None:
    value = member.pax_headers.get("SCHILY.xattr.security.capability")
    return None if value is None else value.encode("utf-8", "surrogateescape")


@pytest.mark.root
def test_file_capabilities_go_into_the_layer_as_images_carry_them(tmp_path: Path) -> None:
    upper = _upper_with_caps(tmp_path, {
        "plain": _caps(0x02000000),
        "ns-root": _caps(0x03000000, 100000),  # what container root of a remap sets
        "outsider": _caps(0x03000000, 300000),  # a root outside the container's map
    })
    members = _members(upper, tmp_path, IdShift([[0, 100000, 65536]]))
    assert _kept(members["plain"]) == _caps(0x02000000)
    assert _kept(members["ns-root"]) == _caps(0x02000000)
    assert _kept(members["outsider"]) is None
    assert _kept(_members(upper, tmp_path, IdShift(None))["plain"]) == _caps(0x02000000)


def test_a_layer_over_the_limit_fails_in_words(tmp_path: Path) -> None:
    upper = tmp_path / "upper"
    upper.mkdir()
    (upper / "big").write_bytes(b"x" * 20000)
    with pytest.raises(LayerError, match=r"larger than the helper's 16 KiB layer limit"):
        _members(upper, tmp_path, IdShift(None), max_bytes=16 << 10)


_SETCAP = r"""
#include <stdint.h>
#include <stdio.h>
#include <sys/xattr.h>
int main(int argc, char **argv) {
    /* revision 2, effective; CAP_NET_RAW (13) permitted */
    uint32_t caps[5] = {0x02000001, 1u << 13, 0, 0, 0};
    if (argc < 2 || setxattr(argv[1], "security.capability", caps, sizeof caps, 0)) {
        perror("setxattr");
        return 1;
    }
    return 0;
}
"""


@pytest.mark.root
async def test_a_run_that_sets_file_capabilities_keeps_them(engine: Any,
                                                            tmp_path: Path) -> None:
    """A RUN's setcap (here a tiny static program: busybox has none) reaches the layer
    tar and the unpacked layer the next containers run from."""
    import shutil
    import subprocess

    from tests.engine.build.helpers import build, write_context

    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no C compiler (gcc) to build the setcap program")
    write_context(tmp_path, {"setcap.c": _SETCAP, "Dockerfile": (
        "FROM busybox\nCOPY setcap /setcap\nRUN cp /bin/busybox /ping && /setcap /ping\n")})
    subprocess.run([gcc, "-static", "-O1", "-o", str(tmp_path / "setcap"),
                    str(tmp_path / "setcap.c")], check=True)
    result, _events, _text = await build(engine, tmp_path)
    image = engine._shared.image_store.get(result.image_id)
    top = image.layers[-1]
    with engine._shared.blobs.open(top.digest) as raw, tarfile.open(fileobj=raw) as tar:
        member = tar.getmember("ping")
    assert _kept(member) == _caps(0x02000000)
    unpacked = engine.system.helper_root / "layers" / "sha256" / \
        top.diff_id.removeprefix("sha256:") / "ping"
    assert os.getxattr(unpacked, "security.capability") == _caps(0x02000000)
    await engine.images.remove(result.image_id, force=True)
