"""A private world for a benchmark run: its own storage, cgroups and network names.

Nothing a benchmark makes may outlive it: at the end its bridges and netfilter
table go too (they persist for users, like docker0, but not for a benchmark).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["private_world"]


@contextlib.contextmanager
def private_world(work: Path) -> Iterator[None]:
    tag = os.getpid() % 1000
    os.environ.update(SKIFF_ROOT=str(work / "root"),
                      SKIFF_CGROUP_PARENT=f"skiff-bench-{os.getpid()}",
                      SKIFF_NET_PREFIX=f"sb{tag}", SKIFF_NET_TABLE=f"skiff_bench_{tag}",
                      SKIFF_HELPER_IDLE="0")
    try:
        yield
    finally:
        helper_root = work / "root" / "helper"
        if (helper_root / "network").exists():
            from engine.helper.network.verbs import default_networking

            default_networking(helper_root, 0).teardown()
