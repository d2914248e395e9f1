"""A container's changes as a layer: whiteouts, opaque directories, and owners shifted back
through the user namespace map (container root is uid 0 in the layer, whoever ran it)."""

from __future__ import annotations

import tarfile
from typing import Any

from engine.containers.config import ContainerConfig
from engine.helper.upperlayer import IdShift


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
