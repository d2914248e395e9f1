"""Repair leaves another engine's create or remove under way alone.

Fifty ``skiff run -d`` at once each open an engine, and each engine's first
request is a repair: a repair must not take the half-made directory of a
create that another engine has under way, only one a crash left long ago.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.helper.claims import STALE_AFTER
from tests.peers import HelperPeer

pytestmark = pytest.mark.root


def test_repair_drops_old_half_made_dirs_and_keeps_young_ones(tmp_path: Path) -> None:
    peer = HelperPeer(tmp_path / "helper", 0)
    try:
        reply, _ = peer.call("repair", {"ids": [], "layers": []})
        assert "error" not in reply, reply
        containers = tmp_path / "helper" / "users" / "0" / "containers"
        young = {containers / f".{c * 64}.{kind}" for c in "ab" for kind in ("creating",
                                                                            "removing")}
        old = {containers / f".{c * 64}.{kind}" for c in "cd" for kind in ("creating",
                                                                          "removing")}
        for path in young | old:
            (path / "fs").mkdir(parents=True)
        long_ago = time.time() - STALE_AFTER - 60
        for path in old:
            os.utime(path, (long_ago, long_ago))
        reply, _ = peer.call("repair", {"ids": [], "layers": []})
        assert "error" not in reply, reply
        assert all(p.is_dir() for p in young)
        assert not any(p.exists() for p in old)
    finally:
        peer.close()


def test_repair_passes_over_what_goes_between_its_listing_and_its_look(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another engine's create renames its ``.ID.creating`` into place (a removal
    takes a container away) while the repair walks the directory: the repair
    carries on instead of failing that engine's command with ENOENT."""
    from engine.helper.containers import ContainerService

    service = ContainerService(tmp_path / "helper", 0, "skiff-test-repair")
    service.repair([], [])
    containers = service.containers_dir
    gone = [containers / f".{'a' * 64}.creating", containers / f".{'b' * 64}.removing",
            containers / ("c" * 64)]
    listed = Path.iterdir

    def listing(self: Path) -> Iterator[Path]:
        yield from listed(self)
        if self == containers:
            yield from gone  # listed, and gone by the time repair looks at them

    monkeypatch.setattr(Path, "iterdir", listing)
    assert service.repair([], []) == {"removed": []}
