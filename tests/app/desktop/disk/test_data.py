"""The Disk usage page's figures: the build cache is counted and can be reclaimed."""

from __future__ import annotations

from app.desktop.disk.data import kinds
from engine import DiskUsage
from engine.diskusage import CacheUsage


def test_build_cache_figures() -> None:
    usage = DiskUsage(0, build_cache=[
        CacheUsage("a" * 64, "regular", "/bin/sh -c make", 4000, "2026-01-01T00:00:00Z",
                   False),
        CacheUsage("buildcache-1", "exec.cachemount", "cached mount", 6000,
                   "2026-01-02T00:00:00Z", True)])
    build = next(k for k in kinds(usage, {}) if k.key == "build")
    assert (build.count, build.active, build.size, build.reclaimable) == (2, 1, 10000, 4000)
    assert build.can_reclaim and "next build" in build.reclaims
    empty = next(k for k in kinds(DiskUsage(0), {}) if k.key == "build")
    assert not empty.can_reclaim
